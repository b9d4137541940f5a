//! Decoded pixels: 3-channel RGB for opaque images (the fast path: JPEG in, JPEG out never
//! touches an alpha channel) or 4-channel RGBA, and the geometric operations on them.

use std::cell::RefCell;

use fast_image_resize as fr;
use image::{ImageBuffer, Pixel, RgbImage, RgbaImage, imageops};

use crate::{Error, Result};

/// Pixel buffers kept on this thread between images. A Lambda container transforms one image
/// after another; a fresh multi-megabyte buffer for each would be new pages that the kernel
/// faults in and zeroes every time (13% of a 12 MP JPEG resize), so the big buffers of one
/// transform (the decoded image, the resized one, the resizer's scratch) are handed back here
/// and reused by the next.
mod pool {
    use super::RefCell;

    /// At most this many buffers are kept...
    const MAX_BUFFERS: usize = 4;
    /// ...and only buffers up to this size, so an occasional huge image is not held for the
    /// life of the container (a 12 MP RGB image is 36 MB; its shrink-on-load decode, 2.25).
    const MAX_BYTES: usize = 16 << 20;

    thread_local! {
        static FREE: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
    }

    /// A buffer of exactly `len` bytes, whose contents are unspecified (old pixels or zeros):
    /// the caller overwrites all of them. Reuses the smallest kept buffer large enough.
    pub(crate) fn take(len: usize) -> Vec<u8> {
        let mut v = kept(len);
        // Only bytes past the old length are written (zeroed): the rest are left as they are.
        v.resize(len, 0);
        v
    }

    /// [`take`], failing instead of aborting when the memory cannot be had.
    pub(crate) fn try_take(len: usize) -> Result<Vec<u8>, std::collections::TryReserveError> {
        let mut v = kept(len);
        v.try_reserve_exact(len.saturating_sub(v.len()))?;
        v.resize(len, 0);
        Ok(v)
    }

    /// glibc serves a `malloc` of 128 KiB or more with a fresh `mmap` until a freed mapped
    /// block raises that threshold. libjpeg's own buffers (the encoder's whole-image
    /// coefficient array, needed by optimised Huffman coding: 1.4 MB for 800x600) are such
    /// blocks, so without this every image faulted them in again. Allocating and freeing one
    /// 8 MiB block, once, raises the threshold to 8 MiB (and the heap trim threshold to 16):
    /// from then on those buffers are reused from the heap. Nothing is touched, so nothing
    /// becomes resident; other allocators ignore it.
    fn raise_mmap_threshold() {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            let block: Vec<u8> = Vec::with_capacity(8 << 20);
            drop(std::hint::black_box(block));
        });
    }

    fn kept(len: usize) -> Vec<u8> {
        raise_mmap_threshold();
        let kept = FREE
            .try_with(|free| {
                let mut free = free.borrow_mut();
                let best = free
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| v.capacity() >= len)
                    .min_by_key(|(_, v)| v.capacity())
                    .map(|(i, _)| i);
                best.map(|i| free.swap_remove(i))
            })
            .ok()
            .flatten();
        kept.unwrap_or_default()
    }

    /// Hands a buffer back for the next image on this thread.
    pub(crate) fn give(v: Vec<u8>) {
        if v.capacity() == 0 || v.capacity() > MAX_BYTES {
            return;
        }
        let _ = FREE.try_with(|free| {
            let mut free = free.borrow_mut();
            free.push(v);
            if free.len() > MAX_BUFFERS {
                // Keep the largest: they serve every smaller request too.
                let smallest = free
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, v)| v.capacity())
                    .map(|(i, _)| i);
                if let Some(i) = smallest {
                    free.swap_remove(i);
                }
            }
        });
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn buffers_are_reused_and_sized_exactly() {
            let mut a = take(1000);
            assert_eq!(a.len(), 1000);
            a.fill(7);
            let at = a.as_ptr();
            give(a);
            // A smaller request reuses it, at the requested length.
            let b = take(10);
            assert_eq!((b.len(), b.as_ptr()), (10, at));
            give(b);
            // A larger one grows it: every byte past the old length reads 0.
            let c = take(2000);
            assert_eq!(c.len(), 2000);
            assert!(c[1000..].iter().all(|&v| v == 0));
            give(c);
            // Too large to keep.
            give(vec![0; MAX_BYTES + 1]);
            FREE.with(|f| assert!(f.borrow().iter().all(|v| v.capacity() <= MAX_BYTES)));
            for _ in 0..10 {
                give(vec![0; 64]);
            }
            FREE.with(|f| assert!(f.borrow().len() <= MAX_BUFFERS));
        }
    }
}

pub(crate) use pool::{give as give_buffer, take as take_buffer, try_take as try_take_buffer};

thread_local! {
    /// The resizer keeps its scratch buffers between calls.
    static RESIZER: RefCell<fr::Resizer> = RefCell::new(fr::Resizer::new());
}

/// One frame of pixels.
#[derive(Debug, Clone)]
pub(crate) enum Px {
    /// Opaque.
    Rgb(RgbImage),
    /// With an alpha channel.
    Rgba(RgbaImage),
}

macro_rules! px_map {
    ($px:expr, $img:ident => $body:expr) => {
        match $px {
            Px::Rgb($img) => Px::Rgb($body),
            Px::Rgba($img) => Px::Rgba($body),
        }
    };
}

impl Px {
    pub(crate) fn width(&self) -> u32 {
        match self {
            Px::Rgb(i) => i.width(),
            Px::Rgba(i) => i.width(),
        }
    }

    pub(crate) fn height(&self) -> u32 {
        match self {
            Px::Rgb(i) => i.height(),
            Px::Rgba(i) => i.height(),
        }
    }

    pub(crate) fn has_alpha(&self) -> bool {
        matches!(self, Px::Rgba(_))
    }

    /// The bands libvips would count: 3, or 4 with alpha.
    pub(crate) fn bands(&self) -> usize {
        if self.has_alpha() { 4 } else { 3 }
    }

    /// The pixels with an alpha channel (opaque when there was none).
    pub(crate) fn into_rgba(self) -> RgbaImage {
        match self {
            Px::Rgba(i) => i,
            Px::Rgb(i) => {
                let (w, h) = i.dimensions();
                let mut out = take_buffer(w as usize * h as usize * 4);
                for (o, p) in out.chunks_exact_mut(4).zip(i.as_raw().chunks_exact(3)) {
                    o.copy_from_slice(&[p[0], p[1], p[2], 255]);
                }
                give_buffer(i.into_raw());
                RgbaImage::from_raw(w, h, out).unwrap_or_else(|| RgbaImage::new(w, h))
            }
        }
    }

    /// Drops alpha the way libvips does when a format has none: flattened onto black.
    pub(crate) fn into_rgb(self) -> RgbImage {
        match self {
            Px::Rgb(i) => i,
            Px::Rgba(i) => {
                let (w, h) = i.dimensions();
                let mut out = take_buffer(w as usize * h as usize * 3);
                for (o, p) in out.chunks_exact_mut(3).zip(i.as_raw().chunks_exact(4)) {
                    let a = u16::from(p[3]);
                    for c in 0..3 {
                        o[c] = ((u16::from(p[c]) * a + 127) / 255) as u8;
                    }
                }
                give_buffer(i.into_raw());
                RgbImage::from_raw(w, h, out).unwrap_or_else(|| RgbImage::new(w, h))
            }
        }
    }

    /// Runs an RGBA filter, keeping the image opaque when it was.
    pub(crate) fn with_rgba(self, f: impl FnOnce(RgbaImage) -> RgbaImage) -> Px {
        match self.try_with_rgba(|i| Ok::<_, std::convert::Infallible>(f(i))) {
            Ok(px) => px,
            Err(never) => match never {},
        }
    }

    /// [`Px::with_rgba`] for an operation that can fail.
    pub(crate) fn try_with_rgba<E>(
        self,
        f: impl FnOnce(RgbaImage) -> Result<RgbaImage, E>,
    ) -> Result<Px, E> {
        let had_alpha = self.has_alpha();
        let out = f(self.into_rgba())?;
        Ok(if had_alpha {
            Px::Rgba(out)
        } else {
            Px::Rgba(out).drop_alpha_if_opaque()
        })
    }

    /// RGBA with every pixel opaque becomes RGB (no visible change).
    pub(crate) fn drop_alpha_if_opaque(self) -> Px {
        match self {
            Px::Rgba(i) if i.pixels().all(|p| p[3] == 255) => Px::Rgba(i).remove_alpha(),
            other => other,
        }
    }

    /// Removes the alpha channel without flattening (sharp's `removeAlpha`).
    pub(crate) fn remove_alpha(self) -> Px {
        match self {
            Px::Rgba(i) => {
                let (w, h) = i.dimensions();
                let mut out = take_buffer(w as usize * h as usize * 3);
                for (o, p) in out.chunks_exact_mut(3).zip(i.as_raw().chunks_exact(4)) {
                    o.copy_from_slice(&p[..3]);
                }
                give_buffer(i.into_raw());
                Px::Rgb(RgbImage::from_raw(w, h, out).unwrap_or_else(|| RgbImage::new(w, h)))
            }
            other => other,
        }
    }

    /// Applies an EXIF orientation (1..=8) so the pixels are upright.
    pub(crate) fn orient(self, orientation: u8) -> Px {
        match orientation {
            2 => self.flop(),
            3 => self.rotate90s(180),
            4 => self.flip(),
            5 => self.rotate90s(90).flop(),
            6 => self.rotate90s(90),
            7 => self.rotate90s(270).flop(),
            8 => self.rotate90s(270),
            _ => self,
        }
    }

    /// Rotates clockwise by a multiple of 90 degrees (any integer; normalised mod 360).
    pub(crate) fn rotate90s(self, degrees: i64) -> Px {
        match degrees.rem_euclid(360) {
            90 => px_map!(self, i => imageops::rotate90(&i)),
            180 => px_map!(self, i => imageops::rotate180(&i)),
            270 => px_map!(self, i => imageops::rotate270(&i)),
            _ => self,
        }
    }

    /// Mirror top-bottom (sharp's `flip`).
    pub(crate) fn flip(self) -> Px {
        px_map!(self, i => { let mut i = i; imageops::flip_vertical_in_place(&mut i); i })
    }

    /// Mirror left-right (sharp's `flop`).
    pub(crate) fn flop(self) -> Px {
        px_map!(self, i => { let mut i = i; imageops::flip_horizontal_in_place(&mut i); i })
    }

    /// The area (left, top, width, height), which the caller has checked lies inside.
    pub(crate) fn crop(self, left: u32, top: u32, width: u32, height: u32) -> Px {
        px_map!(self, i => imageops::crop_imm(&i, left, top, width, height).to_image())
    }

    /// Places the image at (left, top) on a `width` x `height` canvas of `background`.
    pub(crate) fn embed(self, left: u32, top: u32, width: u32, height: u32, bg: [u8; 4]) -> Px {
        let opaque = bg[3] == 255;
        match self {
            Px::Rgb(i) if opaque => {
                let mut out =
                    RgbImage::from_pixel(width, height, image::Rgb([bg[0], bg[1], bg[2]]));
                imageops::replace(&mut out, &i, i64::from(left), i64::from(top));
                Px::Rgb(out)
            }
            other => {
                let i = other.into_rgba();
                let mut out = RgbaImage::from_pixel(width, height, image::Rgba(bg));
                imageops::replace(&mut out, &i, i64::from(left), i64::from(top));
                Px::Rgba(out)
            }
        }
    }

    /// Stacks frames top to bottom (sharp's "toilet roll" of a multi-page image).
    pub(crate) fn stack(frames: Vec<Px>) -> Px {
        let any_alpha = frames.iter().any(Px::has_alpha);
        let width = frames.first().map_or(0, Px::width);
        let height: u32 = frames.iter().map(Px::height).sum();
        if any_alpha {
            let mut raw = Vec::with_capacity(width as usize * height as usize * 4);
            for f in frames {
                raw.extend_from_slice(f.into_rgba().as_raw());
            }
            Px::Rgba(
                RgbaImage::from_raw(width, height, raw).unwrap_or_else(|| RgbaImage::new(1, 1)),
            )
        } else {
            let mut raw = Vec::with_capacity(width as usize * height as usize * 3);
            for f in frames {
                raw.extend_from_slice(f.into_rgb().as_raw());
            }
            Px::Rgb(RgbImage::from_raw(width, height, raw).unwrap_or_else(|| RgbImage::new(1, 1)))
        }
    }

    /// Resamples to exactly `width` x `height`: Lanczos3 when reducing (sharp's default kernel),
    /// Catmull-Rom (bicubic, the interpolator libvips infers) when enlarging. Alpha is
    /// premultiplied during the convolution.
    pub(crate) fn resize(self, width: u32, height: u32) -> Result<Px> {
        if width == self.width() && height == self.height() {
            return Ok(self);
        }
        let (w, h) = (f64::from(self.width()), f64::from(self.height()));
        self.resize_area((0.0, 0.0, w, h), width, height)
    }

    /// Resamples the source area `(left, top, width, height)` (fractional) to exactly
    /// `width` x `height`: a scale then crop without materialising the whole scaled image.
    pub(crate) fn resize_area(
        self,
        area: (f64, f64, f64, f64),
        width: u32,
        height: u32,
    ) -> Result<Px> {
        let filter = if f64::from(width) <= area.2 && f64::from(height) <= area.3 {
            fr::FilterType::Lanczos3
        } else {
            fr::FilterType::CatmullRom
        };
        let options = fr::ResizeOptions::new()
            .resize_alg(fr::ResizeAlg::Convolution(filter))
            .crop(area.0, area.1, area.2, area.3);
        let failed = |e: &dyn std::fmt::Display| super::processing_failure(format!("resize: {e}"));
        let (src_w, src_h) = (self.width(), self.height());
        let (raw, pixel_type, rgba) = match self {
            Px::Rgb(i) => (i.into_raw(), fr::PixelType::U8x3, false),
            Px::Rgba(i) => (i.into_raw(), fr::PixelType::U8x4, true),
        };
        let mut out = take_buffer(width as usize * height as usize * pixel_type.size());
        let resized = (|| -> Result<()> {
            let src = fr::images::ImageRef::new(src_w, src_h, &raw, pixel_type)
                .map_err(|e| failed(&e))?;
            let mut dst = fr::images::Image::from_slice_u8(width, height, &mut out, pixel_type)
                .map_err(|e| failed(&e))?;
            // The thread's resizer when it is free (it always is, unless this thread is
            // already inside a resize), else a new one.
            let kept = RESIZER.try_with(|r| match r.try_borrow_mut() {
                Ok(mut r) => r.resize(&src, &mut dst, &options),
                Err(_) => fr::Resizer::new().resize(&src, &mut dst, &options),
            });
            match kept {
                Ok(done) => done,
                Err(_) => fr::Resizer::new().resize(&src, &mut dst, &options),
            }
            .map_err(|e| failed(&e))
        })();
        give_buffer(raw);
        if let Err(e) = resized {
            give_buffer(out);
            return Err(e);
        }
        if rgba {
            Ok(Px::Rgba(buffer(width, height, out)?))
        } else {
            Ok(Px::Rgb(buffer(width, height, out)?))
        }
    }

    /// Hands the pixel buffer back to this thread's pool, for the next image.
    pub(crate) fn recycle(self) {
        match self {
            Px::Rgb(i) => give_buffer(i.into_raw()),
            Px::Rgba(i) => give_buffer(i.into_raw()),
        }
    }
}

fn buffer<P: Pixel<Subpixel = u8>>(
    width: u32,
    height: u32,
    raw: Vec<u8>,
) -> Result<ImageBuffer<P, Vec<u8>>, Error> {
    ImageBuffer::from_raw(width, height, raw)
        .ok_or_else(|| super::processing_failure("pixel buffer size mismatch".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked() -> Px {
        // 3x2, red pixel at top-left.
        let mut i = RgbImage::from_pixel(3, 2, image::Rgb([0, 0, 0]));
        i.put_pixel(0, 0, image::Rgb([255, 0, 0]));
        Px::Rgb(i)
    }

    fn red_at(px: &Px) -> (u32, u32) {
        let Px::Rgb(i) = px else { panic!("rgb") };
        let (x, y, _) = i
            .enumerate_pixels()
            .find(|(_, _, p)| p[0] == 255)
            .expect("red pixel");
        (x, y)
    }

    #[test]
    fn orientations_move_the_corner_as_exif_says() {
        // Where the stored top-left pixel ends up after orienting a 3x2 image.
        let expected = [
            (1, (0, 0), (3, 2)),
            (2, (2, 0), (3, 2)),
            (3, (2, 1), (3, 2)),
            (4, (0, 1), (3, 2)),
            (5, (0, 0), (2, 3)),
            (6, (1, 0), (2, 3)),
            (7, (1, 2), (2, 3)),
            (8, (0, 2), (2, 3)),
        ];
        for (o, at, dims) in expected {
            let px = marked().orient(o);
            assert_eq!((px.width(), px.height()), dims, "orientation {o}");
            assert_eq!(red_at(&px), at, "orientation {o}");
        }
    }

    #[test]
    fn resize_keeps_channels() {
        let px = Px::Rgb(RgbImage::from_pixel(40, 30, image::Rgb([10, 20, 30])));
        let out = px.resize(20, 15).expect("resize");
        assert!(!out.has_alpha());
        assert_eq!((out.width(), out.height()), (20, 15));
        let Px::Rgb(i) = out else { panic!() };
        assert_eq!(i.get_pixel(10, 7).0, [10, 20, 30]);
    }
}
