//! Reading order: layout blocks when present, otherwise a column-aware cut of the lines.

use std::collections::HashSet;

use crate::document::{Page, Region};
use crate::model::{Block, BlockType, RelationshipType};

/// The narrowest vertical gap (as a ratio of the page width) taken for a column gutter.
const MIN_GUTTER: f64 = 0.01;
/// A line wider than this share of its group's width spans the columns (titles, footers).
const SPANNING: f64 = 0.55;

pub(crate) fn regions<'a>(page: Page<'a>) -> Vec<Region<'a>> {
    let doc = page.document();
    let layout: Vec<&Block> = match page.block() {
        Some(p) => doc
            .related(p, &RelationshipType::Child)
            .filter(|b| b.block_type.is_layout())
            .collect(),
        None => Vec::new(),
    };
    let layout = if layout.is_empty() {
        // Some results list layout blocks only in the block array: take the top-level ones in
        // the service's order, which is reading order.
        let nested: HashSet<&str> = page
            .blocks()
            .filter(|b| b.block_type.is_layout())
            .flat_map(|b| b.children())
            .collect();
        page.blocks()
            .filter(|b| b.block_type.is_layout() && !nested.contains(b.id.as_str()))
            .collect()
    } else {
        layout
    };

    let mut seen: HashSet<&str> = HashSet::new();
    let mut out = Vec::new();
    for block in layout {
        let mut lines = Vec::new();
        let mut items = Vec::new();
        for child in doc.related(block, &RelationshipType::Child) {
            match child.block_type {
                BlockType::Line if seen.insert(child.id.as_str()) => lines.push(child),
                BlockType::Line => {}
                _ if child.block_type.is_layout() => {
                    let item: Vec<&Block> = doc
                        .related(child, &RelationshipType::Child)
                        .filter(|l| l.block_type == BlockType::Line && seen.insert(l.id.as_str()))
                        .collect();
                    lines.extend(item.iter().copied());
                    items.push(item);
                }
                _ => {}
            }
        }
        out.push(Region {
            kind: Some(block.block_type.clone()),
            block: Some(block),
            lines,
            items,
        });
    }
    let rest: Vec<&Block> = page
        .lines()
        .filter(|l| !seen.contains(l.id.as_str()))
        .collect();
    for group in column_order(rest) {
        out.push(Region {
            kind: None,
            block: None,
            lines: group,
            items: Vec::new(),
        });
    }
    out
}

/// Groups of lines in reading order, found by cutting at column gutters and at lines that span
/// the columns.
pub(crate) fn column_order(lines: Vec<&Block>) -> Vec<Vec<&Block>> {
    let mut out = Vec::new();
    cut(lines, &mut out, 0);
    out
}

fn cut<'a>(mut lines: Vec<&'a Block>, out: &mut Vec<Vec<&'a Block>>, depth: usize) {
    if lines.is_empty() {
        return;
    }
    if lines.len() == 1 || depth > 64 {
        out.push(rows(lines));
        return;
    }
    // A vertical gutter: read the left side, then the right.
    if let Some(x) = gutter(&lines) {
        let (left, right): (Vec<_>, Vec<_>) =
            lines.into_iter().partition(|l| l.bbox().right() <= x);
        cut(left, out, depth + 1);
        cut(right, out, depth + 1);
        return;
    }
    // No gutter: lines spanning the group split it into bands read top to bottom.
    let left = lines
        .iter()
        .map(|l| l.bbox().left)
        .fold(f64::INFINITY, f64::min);
    let right = lines
        .iter()
        .map(|l| l.bbox().right())
        .fold(f64::NEG_INFINITY, f64::max);
    let width = right - left;
    let spans = |l: &Block| l.bbox().width > SPANNING * width;
    let spanning = lines.iter().filter(|l| spans(l)).count();
    if spanning == 0 || spanning == lines.len() {
        out.push(rows(lines));
        return;
    }
    lines.sort_by(|a, b| centre(a).total_cmp(&centre(b)));
    let mut band: Vec<&Block> = Vec::new();
    let mut spanned: Vec<&Block> = Vec::new();
    for line in lines {
        if spans(line) {
            if !band.is_empty() {
                if !spanned.is_empty() {
                    out.push(std::mem::take(&mut spanned));
                }
                cut(std::mem::take(&mut band), out, depth + 1);
            }
            spanned.push(line);
        } else {
            if !spanned.is_empty() {
                out.push(std::mem::take(&mut spanned));
            }
            band.push(line);
        }
    }
    if !spanned.is_empty() {
        out.push(spanned);
    }
    if !band.is_empty() {
        cut(band, out, depth + 1);
    }
}

fn centre(l: &Block) -> f64 {
    let b = l.bbox();
    b.top + b.height / 2.0
}

/// The middle of the widest vertical gap no line crosses, if one is at least [`MIN_GUTTER`].
fn gutter(lines: &[&Block]) -> Option<f64> {
    let mut spans: Vec<(f64, f64)> = lines
        .iter()
        .map(|l| (l.bbox().left, l.bbox().right()))
        .collect();
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut best: Option<(f64, f64)> = None;
    let mut reach = spans[0].1;
    for &(left, right) in &spans[1..] {
        if left - reach >= MIN_GUTTER && best.is_none_or(|(w, _)| left - reach > w) {
            best = Some((left - reach, (left + reach) / 2.0));
        }
        reach = reach.max(right);
    }
    best.map(|(_, x)| x)
}

/// Lines top to bottom; lines whose vertical centres fall inside each other's height share a
/// row and are read left to right.
fn rows(mut lines: Vec<&Block>) -> Vec<&Block> {
    lines.sort_by(|a, b| centre(a).total_cmp(&centre(b)));
    let mut out: Vec<&Block> = Vec::with_capacity(lines.len());
    let mut row: Vec<&Block> = Vec::new();
    for line in lines {
        let same_row = row.last().is_some_and(|prev| {
            let (p, l) = (prev.bbox(), line.bbox());
            (centre(line) - centre(prev)).abs() < p.height.min(l.height) / 2.0
        });
        if !same_row && !row.is_empty() {
            row.sort_by(|a, b| a.bbox().left.total_cmp(&b.bbox().left));
            out.append(&mut row);
        }
        row.push(line);
    }
    row.sort_by(|a, b| a.bbox().left.total_cmp(&b.bbox().left));
    out.append(&mut row);
    out
}

pub(crate) fn markdown(page: Page<'_>) -> String {
    let tables = page.tables();
    let mut parts: Vec<String> = Vec::new();
    let joined = |lines: &[&Block]| {
        lines
            .iter()
            .filter_map(|l| l.text.as_deref())
            .map(escape_markdown)
            .collect::<Vec<_>>()
            .join(" ")
    };
    for region in page.regions() {
        let part = match &region.kind {
            Some(
                BlockType::LayoutHeader | BlockType::LayoutFooter | BlockType::LayoutPageNumber,
            ) => continue,
            Some(BlockType::LayoutTitle) => format!("# {}", joined(&region.lines)),
            Some(BlockType::LayoutSectionHeader) => format!("## {}", joined(&region.lines)),
            Some(BlockType::LayoutList) if !region.items.is_empty() => region
                .items
                .iter()
                .map(|item| format!("- {}", joined(item)))
                .collect::<Vec<_>>()
                .join("\n"),
            Some(BlockType::LayoutTable) => {
                let area = region.block.map(Block::bbox).unwrap_or_default();
                match tables
                    .iter()
                    .filter(|t| t.bbox.iou(&area) > 0.5)
                    .max_by(|a, b| a.bbox.iou(&area).total_cmp(&b.bbox.iou(&area)))
                {
                    Some(t) if !t.cells.is_empty() => t.markdown().trim_end().to_owned(),
                    _ => region
                        .lines
                        .iter()
                        .filter_map(|l| l.text.as_deref())
                        .map(escape_markdown)
                        .collect::<Vec<_>>()
                        .join("  \n"),
                }
            }
            _ => joined(&region.lines),
        };
        if !part.trim().is_empty() {
            parts.push(part);
        }
    }
    parts.join("\n\n")
}

/// Escapes the characters Markdown would read as markup.
pub(crate) fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, ch) in text.chars().enumerate() {
        let markup = matches!(ch, '\\' | '*' | '_' | '`' | '[' | ']' | '<' | '>' | '|')
            || (i == 0 && matches!(ch, '#' | '-' | '+'));
        if markup {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::{BoundingBox, Geometry};

    fn line(id: &str, left: f64, top: f64, width: f64) -> Block {
        let mut b = Block::new(id, BlockType::Line);
        b.text = Some(id.to_owned());
        b.geometry = Some(Geometry {
            bounding_box: BoundingBox {
                left,
                top,
                width,
                height: 0.02,
            },
            polygon: Vec::new(),
        });
        b
    }

    fn ids(groups: Vec<Vec<&Block>>) -> Vec<&str> {
        groups
            .into_iter()
            .flatten()
            .map(|b| b.id.as_str())
            .collect()
    }

    #[test]
    fn two_columns_between_a_title_and_a_footer() {
        let blocks = [
            line("title", 0.1, 0.05, 0.8),
            line("l1", 0.1, 0.1, 0.35),
            line("r1", 0.55, 0.1, 0.35),
            line("l2", 0.1, 0.13, 0.35),
            line("r2", 0.55, 0.13, 0.35),
            line("footer", 0.1, 0.9, 0.8),
        ];
        let order = ids(column_order(blocks.iter().collect()));
        assert_eq!(order, ["title", "l1", "l2", "r1", "r2", "footer"]);
    }

    #[test]
    fn a_row_of_labels_reads_left_to_right() {
        let blocks = [
            line("b", 0.5, 0.101, 0.1),
            line("a", 0.1, 0.1, 0.5),
            line("c", 0.1, 0.2, 0.5),
        ];
        assert_eq!(ids(vec![rows(blocks.iter().collect())]), ["a", "b", "c"]);
    }

    #[test]
    fn markdown_escapes_markup() {
        assert_eq!(escape_markdown("# a*b_c|"), "\\# a\\*b\\_c\\|");
    }
}
