import json, base64, random
random.seed(20261206)
cases = []
SB = {"SOURCE_BUCKETS": "bucket-a, bucket-b,my.bucket"}
def add(path, env=SB, query=None, accept=None, ct=None, note=None):
    d = {"path": path, "env": env}
    if query is not None: d["query"] = query
    if accept is not None: d["accept"] = accept
    if ct is not None: d["contentType"] = ct
    if note: d["name"] = note
    cases.append(d)
def b64(obj, raw=False):
    s = obj if raw else json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return "/" + base64.b64encode(s.encode()).decode()

# Thumbor filters, one at a time, with typical and hostile values.
filters = {
  "autojpg": [""], "background_color": ["ffffff", "fff", "red", "ff000080", "f00a", "zzz", "Red", "transparent", "", "constructor", "12345"],
  "blur": ["20", "5,2", "", ",3", "abc", "0", "1,", "7.5"], "convolution": ["1;2;1;2;4;2;1;2;1,3", "1;2;3,2", "1;2;3", "1;2;3,0", "a;b,c", ""],
  "equalize": [""], "fill": ["ffffff", "red", "blur", "auto", "00ff0080", ""], "format": ["webp", "jpg", "JPG", "PNG", "'png'", "heic", "raw", "bmp", "jpgjpg", "avif", "gif", "tiff", "heif", ""],
  "grayscale": ["", "x"], "no_upscale": [""], "proportion": ["0.3", "2", "abc", "", "1e2"], "quality": ["80", "", "abc", "80.5", "-1"],
  "rgb": ["10,20,30", "10", "10,20,30,40", "a,b,c", ""], "rotate": ["90", "", "-90", "abc", "45.5", " 90 "], "sharpen": ["1,2,true", "1", "", "a,b"],
  "stretch": [""], "strip_exif": [""], "strip_icc": [""], "upscale": [""], "animated": ["true", "false", "FALSE", "", "no"],
  "smart_crop": ["", "1", "1,20", ",20", "a,b", "1.9,2.9"], "watermark": ["bucket,key.png,0,0", "bucket,folder/key.png,10p,-10p,50,0.5,0.5", "bucket, key.png , 100p , 101p", "b,k,,", "b", "b,k,abc,1e3", "b,k,-100p,-101p,alpha,w,h,extra"],
  "brightness": ["10"], "no_such_filter": ["1"],
}
for name, values in filters.items():
    for v in values:
        for ext in ["jpg", "png", "webp", "gif"] if name in ("quality", "format") else ["jpg"]:
            add(f"/filters:{name}({v})/image.{ext}")
add("/filters:quality(70)/image")
add("/filters:format(webp)/filters:quality(70)/image")
add("/filters:quality(70):format(png)/image")
add("/filters:quality(70)/filters:format(heic)/image")
add("/filters:quality(70)/image.JPG")
add("/filters:quality(70)/image.jpeg")
add("/filters:quality(70)/image.avif")
add("/filters:quality(70)/image.tif")
# Sorting and merging.
add("/fit-in/100x100/filters:stretch()/a.jpg")
add("/100x100/filters:stretch()/a.jpg")
add("/100x100/filters:upscale():stretch()/a.jpg")
add("/100x100/filters:stretch():no_upscale()/filters:fill(red)/a.jpg")
add("/100x200/filters:proportion(0.3)/a.jpg")
add("/100x0/filters:proportion(0.5)/a.jpg")
add("/filters:proportion(0.5):proportion(2)/a.jpg")
add("/filters:rotate(90):strip_exif()/a.jpg")
add("/filters:strip_exif():rotate()/a.jpg")
add("/filters:rotate():rotate(10)/a.jpg")
add("/filters:a:b()/a.jpg", note="a filter without parentheses throws")
add("/filters:fill(ff:00)/a.jpg")
add("/filters:grayscale()filters:blur(2)/a.jpg")
add("/filters:blur(2))/a.jpg")
add("/filters:watermark(b,k,0,0)/image (1).jpg")
add("/filters:watermark(b,k(1).png,0,0)/filters:grayscale()/image.jpg")
add("/filters:rotate(9\u00a00)/a.jpg")
# Crop, resize, fit-in.
for p in ["/10x0:100x200/a.jpg", "/100x200:10x0/a.jpg", "/1234567x1:2x3/a.jpg", "/img-10x10:20x20.jpg", "/a/10x10:20x20/b.jpg", "/0010x0020/a.jpg",
          "/99999999999999999999x1/a.jpg", "/100x200/300x400/a.jpg", "/a/100x200.jpg", "/100x200", "/100x200/", "/fit-in/a.jpg", "/fit-in", "/fit-in-a.jpg",
          "/fit-in/0x0/a.jpg", "/-100x200/a.jpg", "/100x-200/a.jpg", "/fit-in/-100x-200/a.jpg", "/10x10:100x100/fit-in/200x0/filters:grayscale()/x.jpg",
          "//100x100//a.jpg", "/100x100a/b.jpg", "/unsafe/fit-in/100x100/smart/a.jpg", "/1x2:3x4:5x6/a.jpg"]:
    add(p)
# Keys and URL-decoding.
for p in ["/a%20b.jpg", "/a%2Fb.jpg", "/a%.jpg", "/a%zz.jpg", "/%C3%A9.jpg", "/%C3.jpg", "/%E0%A4%A.jpg", "/%F0%9F%98%80.jpg", "/%ED%A0%80.jpg",
          "/a+b.jpg", "/ü/ß.jpg", "/a.jpg?x=1", "/a.b.c.jpg", "///a.jpg", "/s3:bucket-b/a.jpg", "/s3:bucket-b/s3:bucket-a/a.jpg", "/s3:my.bucket/a.jpg",
          "/s3:myxbucket/a.jpg", "/s3:s3:bucket-a/a.jpg", "/x/s3:bucket-a/y/a.jpg", "/s3:bucket-c/a.jpg", "/fit-in/s3:bucket-b/100x100/a.jpg",
          "/filters:grayscale()", "/filters:grayscale()/", "/", "", "/fit-in/100x100/", "/.jpg", "/.png", "/a.png", "/a.PNG", "/a.Jpeg", "/a.bmp", "/a.svg",
          "/a.gif", "/a.tiff", "/a.tif", "/a.avif", "/a.heic", "/a.webp", "/a.jpg\n", "/a\n.png", "/a\nb", "/a.b/c", "/a.\\b", "/a.", "/.a", "a", "abc",
          "/a.jpg/", "/dir.v2/image", "/image.tar.gz", "/eyJ", "/eyJrZXkiOiJhIn0", "/unsafe/a.jpg", "/UNSAFE/FIT-IN/A.JPG"]:
    add(p)
# Default requests.
defaults = [
  {"key": "a.jpg"}, {"bucket": "bucket-b", "key": "a.jpg"}, {"bucket": "bucket-c", "key": "a.jpg"}, {"bucket": None, "key": "a.jpg"}, {"bucket": 5, "key": "a.jpg"},
  {"key": ""}, {"key": 5}, {"key": None}, {"key": ["a", "b"]}, {"key": {"a": 1}}, {"edits": {"grayscale": True}}, {},
  {"key": "a.jpg", "edits": {"resize": {"width": 100.0, "height": 1e2, "x": -0.0, "big": 12345678901234567890, "f": 0.1}}},
  {"key": "a.jpg", "edits": "abc"}, {"key": "a.jpg", "edits": [1, 2]}, {"key": "a.jpg", "edits": 5}, {"key": "a.jpg", "edits": None}, {"key": "a.jpg", "edits": {}},
  {"key": "a.jpg", "edits": {"toFormat": "png"}}, {"key": "a.jpg", "edits": {"toFormat": "jpg"}}, {"key": "a.jpg", "edits": {"toFormat": "pdf"}}, {"key": "a.jpg", "edits": {"toFormat": ""}},
  {"key": "a.jpg", "outputFormat": "webp", "effort": 3}, {"key": "a.jpg", "outputFormat": "webp", "effort": "5"}, {"key": "a.jpg", "outputFormat": "webp", "effort": 7},
  {"key": "a.jpg", "outputFormat": "webp", "effort": -1}, {"key": "a.jpg", "outputFormat": "webp", "effort": 2.9}, {"key": "a.jpg", "outputFormat": "webp", "effort": None},
  {"key": "a.jpg", "outputFormat": "webp", "effort": "abc"}, {"key": "a.jpg", "outputFormat": "webp", "effort": True}, {"key": "a.jpg", "outputFormat": "webp", "effort": [6]},
  {"key": "a.jpg", "outputFormat": "webp", "effort": 6.99}, {"key": "a.jpg", "outputFormat": "webp", "effort": -0.5},
  {"key": "a.jpg", "outputFormat": "png", "effort": 3}, {"key": "a.jpg", "outputFormat": "pdf"}, {"key": "a.jpg", "outputFormat": "jpg"}, {"key": "a.jpg", "outputFormat": "PNG"},
  {"key": "a.jpg", "outputFormat": 5}, {"key": "a.jpg", "outputFormat": ""}, {"key": "a.jpg", "outputFormat": None}, {"key": "a.jpg", "outputFormat": "raw"}, {"key": "a.jpg", "outputFormat": "heic"},
  {"key": "a.jpg", "outputFormat": "webp", "edits": {"toFormat": "png"}, "effort": 1},
  {"key": "a.jpg", "headers": {"Cache-Control": "max-age=1", "X-Custom": 5, "x-amz-meta": "a", "Content-Type": "x", "Set-Cookie": "a", "Authorization": "a", "x-frame-options": "a",
                                "permissions-policy": "a", "strict-transport-security": "a", "cross-origin-x": "a", "access-control-allow-origin": "*", "Server": "a", "content-\n": "a", "Vary": None, "X-Obj": {"a": 1}, "X-Arr": [1, 2]}},
  {"key": "a.jpg", "headers": "ab"}, {"key": "a.jpg", "headers": []}, {"key": "a.jpg", "headers": 0}, {"key": "a.jpg", "headers": {}},
  {"key": "a.jpg", "edits": {"rotate": None, "png": {"quality": 10}}, "outputFormat": "jpeg"},
]
for d in defaults:
    add(b64(d))
for raw in ["null", "5", "\"str\"", "[1]", "true", "{\"key\":\"a.jpg\",\"key\":\"b.jpg\"}", "{\"key\":\"\\u00e9.jpg\"}", "  {\"key\":\"a.jpg\"}  ", "{bad json}", "{\"key\":\"a.jpg\"}x"]:
    add(b64(raw, raw=True))
add("/" + base64.b64encode(b'{"key":"a.jpg"}').decode().rstrip("="))
add(base64.b64encode(b'{"key":"no-slash.jpg"}').decode())
add("/" + base64.b64encode(b'{"key":"a.jpg"}').decode().replace("J", "J"))
add("/" + base64.urlsafe_b64encode(b'{"key":"a.jpg","edits":{"resize":{"width":1}}}???').decode())
add("/" + base64.b64encode(b'{"key":"\xff\xfe.jpg"}').decode())
add("/eyJrZXkiOiJhLmpwZyJ9")
add("/eyJr/ZXkiOiJhLmpwZyJ9")
add("//eyJrZXkiOiJhLmpwZyJ9")
# Query parameters.
qvals = ["", "0", "00", "100", "abc", "12px", "0x10", "-5", "1e3", " 7", "TRUE", "False", "true", "fill", "webp"]
for k in ["format", "fit", "width", "height", "rotate", "flip", "flop", "grayscale", "greyscale", "signature", "other"]:
    for v in qvals:
        add("/fit-in/200x300/filters:rotate(90)/a.jpg", query={k: v})
add("/a.jpg", query={"grayscale": "true", "greyscale": "false"})
add("/a.jpg", query={"width": "10", "height": "20", "fit": "cover"})
add(b64({"key": "a.jpg", "edits": {"resize": {"width": 5, "fit": "cover"}, "grayscale": True}}), query={"height": "9"})
add(b64({"key": "a.jpg"}), query={"format": "png"})
add(b64({"key": "a.jpg", "edits": "abc"}), query={"flip": "1"})
add(b64({"key": "a.jpg", "edits": None}), query={"flip": "1"})
add("/filters:quality(50)/a.jpg", query={"format": "webp"})
add("/filters:quality(50)/a.jpg", query={"format": "jpg"})
add("/filters:quality(50)/a.jpg", query={"format": "pdf"})
add("/filters:rotate()/a.jpg", query={"rotate": ""})
add("/filters:strip_exif()/a.jpg", query={"rotate": "0"})
# Output format: AUTO_WEBP, Accept, content types.
ACC = "text/html,image/webp,*/*"
for env in [SB, {**SB, "AUTO_WEBP": "Yes"}, {**SB, "AUTO_WEBP": "yes"}]:
    for accept in [None, ACC, "image/png", "IMAGE/WEBP"]:
        for path in ["/a.jpg", "/filters:format(png)/a.jpg", "/filters:quality(40)/a.png", b64({"key": "a.jpg", "outputFormat": "png", "effort": 2}), b64({"key": "a.jpg", "effort": 2}), b64({"key": "a.jpg"})]:
            add(path, env=env, accept=accept)
for ct in ["image/svg+xml", "image/png", "image/gif", "image", "application/octet-stream"]:
    for path in ["/a.svg", "/filters:grayscale()/a.svg", "/filters:format(webp)/a.svg", "/filters:quality(60)/a.svg", b64({"key": "a.svg"}), b64({"key": "a.svg", "edits": {}}),
                 b64({"key": "a.svg", "edits": {"grayscale": True}}), b64({"key": "a.svg", "outputFormat": "webp"}), b64({"key": "a.svg", "edits": None}), b64({"key": "a.svg", "edits": 0})]:
        add(path, ct=ct)
        add(path, ct=ct, env={**SB, "AUTO_WEBP": "Yes"}, accept=ACC)
    add("/a.svg", ct=ct, query={"width": "10"})
# Custom rewrites.
customs = [
  ("/(filters-)/gm", "filters:", "/filters-rotate(90)/filters-grayscale()/img.jpg"),
  ("/^\\/v1\\//", "/fit-in/100x100/", "/v1/img.jpg"),
  ("/\\/img\\/(\\d+)x(\\d+)\\/(.*)/", "/$1x$2/$3", "/img/300x200/photos/cat.jpg"),
  ("/(?<w>\\d+)w\\//", "$<w>x0/", "/300w/cat.jpg"),
  ("/(?<=\\/)thumb-/", "fit-in/50x50/", "/thumb-cat.jpg"),
  ("/CAT/i", "dog", "/cat.jpg"),
  ("/a/g", "$&$&", "/banana.jpg"),
  ("/n/", "[$`|$']", "/banana.jpg"),
  ("/(x)?y/", "[$1]", "/y.jpg"),
  ("/\\d+/g", "$$", "/a1b22.jpg"),
  ("/x*/g", "-", "/ab.jpg"),
  ("/b/y", "X", "/ab.jpg"),
  ("/./g", "$0", "/ab.jpg"),
  ("matchPattern", "substitutionString", "/image.jpg"),
  ("/(/", "x", "/image.jpg"),
  ("/a/gg", "x", "/image.jpg"),
  ("/a/q", "x", "/image.jpg"),
  ("g", "x", "/image.jpg"),
  ("/image/", "s3:bucket-b/other", "/image.jpg"),
  ("/image/", "other%zz", "/image.jpg"),
  ("/\\bcat\\b/g", "dog", "/cat/concat.jpg"),
  ("/[\\d-x]/g", "_", "/a1-x.jpg"),
  ("/a{/", "b", "/a{.jpg"),
  ("/\\//g", "/filters:grayscale()/", "/x.jpg"),
  ("/^\\/(.*)$/", "/fit-in/10x10/$1", "/any/thing.jpg"),
  ("/.jpg$/", ".png", "/x.jpg"),
  ("/\\u0061/", "b", "/a.jpg"),
  ("/\\x61/", "b", "/a.jpg"),
  ("/[^]/", "b", "/a.jpg"),
  ("/\\s/g", "", "/a b.jpg"),
  ("/(a)|(b)/g", "[$1$2]", "/ab.jpg"),
  ("/(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)/", "$11-$10-$1", "/abcdefghijk.jpg"),
  ("/(a)/", "$2$1$01$00", "/a.jpg"),
  ("/^.*$/", "/fit-in/10x10/x.jpg", "/a.bmp"),
  ("/v1/", "v2", "/v1/a.jpg"),
]
for pattern, sub, path in customs:
    add(path, env={**SB, "REWRITE_MATCH_PATTERN": pattern, "REWRITE_SUBSTITUTION": sub})
add("/a.bmp", env={**SB, "REWRITE_MATCH_PATTERN": "", "REWRITE_SUBSTITUTION": "x"})
add(b64({"key": "a.jpg"}), env={**SB, "REWRITE_MATCH_PATTERN": "/a/", "REWRITE_SUBSTITUTION": "b"})
# Other SOURCE_BUCKETS shapes.
for sb in ["", " ", "a,,b", " a , b ", "a\tb,c", "x.y"]:
    add("/s3:b/img.jpg", env={"SOURCE_BUCKETS": sb})
    add("/s3:x.y/s3:xzy/img.jpg", env={"SOURCE_BUCKETS": sb})
    add(b64({"bucket": "", "key": "a.jpg"}), env={"SOURCE_BUCKETS": sb})
add("/s3:a(b/img.jpg", env={"SOURCE_BUCKETS": "a(b"})
add("/img.jpg", env={"SOURCE_BUCKETS": "a(b"})
add("/s3:a+/img.jpg", env={"SOURCE_BUCKETS": "a+"})
# URLs real clients send: Thumbor's own URL shapes and SIH's documented examples.
for p in ["/unsafe/300x200/smart/filters:quality(80)/path/img.jpg", "/unsafe/fit-in/300x200/filters:fill(blue)/img.png", "/unsafe/-300x-200/img.jpg",
          "/unsafe/trim/10x10:100x100/left/top/img.jpg", "/unsafe/adaptive-fit-in/300x200/img.jpg", "/unsafe/full-fit-in/300x200/img.jpg",
          "/hFkPqvqsZKsnx5ttzVP6Y1sKlXw=/300x200/img.jpg", "/unsafe/300x200/filters:watermark(http://x.com/w.png,-10,-10,50)/img.jpg",
          "/unsafe/filters:format(webp):quality(90)/img.jpg", "/unsafe/filters:round_corner(20,255,255,255)/img.jpg",
          "/unsafe/filters:brightness(10):contrast(20):rgb(10,-10,0)/img.jpg", "/unsafe/meta/img.jpg", "/unsafe/300x0/https%3A%2F%2Fexample.com%2Fa.jpg",
          "/fit-in/400x400/filters:fill(00ff00)/image.jpg", "/filters:watermark(bucket,key,-10,-10,70,20,20)/image.jpg", "/filters:rotate(180)/image.jpg",
          "/filters:format(png)/image.jpg", "/filters:no_upscale()/400x400/image.jpg", "/filters:proportion(0.3)/image.jpg", "/filters:stretch()/400x400/image.jpg",
          "/filters:upscale()/fit-in/400x400/image.jpg", "/filters:strip_exif()/image.jpg", "/filters:strip_icc()/image.png", "/filters:animated(false)/image.gif",
          "/filters:smart_crop(1,10)/image.jpg", "/filters:grayscale()/filters:equalize()/filters:autojpg()/image.png", "/filters:blur(7)/image.jpg",
          "/filters:convolution(1;2;1;2;4;2;1;2;1,3,false)/image.jpg", "/filters:sharpen(2,1,true)/image.jpg", "/filters:background_color(ddd)/image.png",
          "/fit-in/200x0/photos/2024/06/IMG_0001.JPG", "/200x200/filters:quality(60)/photos/cat.jpeg", "/s3:bucket-b/fit-in/100x100/cat.webp"]:
    add(p)
    add(p, env={**SB, "AUTO_WEBP": "Yes"}, accept="image/avif,image/webp,*/*")
# Random paths from Thumbor-ish pieces.
pieces = ["/", "/", "/", "fit-in", "filters:", "grayscale()", "rotate(90)", "rotate()", "quality(80)", "format(webp)", "fill(red)", "watermark(b,k,1,2)", "blur(3)",
          "(", ")", ":", ",", "100x200", "0x50", "10x10:90x90", "s3:bucket-b", "s3:zz", ".jpg", ".png", ".svg", ".JPG", ".", "%20", "%", "%E2%82%AC", "a", "img", "é", "\n",
          "=", "==", "eyJrZXkiOiJhIn0", "unsafe", "-", "x", "0", "9", " ", "proportion(0.5)", "stretch()", "upscale()", "no_upscale()", "smart_crop(1,2)", "strip_exif()"]
for _ in range(700):
    n = random.randint(1, 9)
    path = "".join(random.choice(pieces) for _ in range(n))
    if random.random() < 0.8 and not path.startswith("/"):
        path = "/" + path
    q = None
    if random.random() < 0.3:
        q = {random.choice(["width", "height", "format", "rotate", "flip", "fit", "grayscale"]): random.choice(qvals)}
    env = SB if random.random() < 0.8 else {**SB, "AUTO_WEBP": "Yes"}
    add(path, env=env, query=q, accept=random.choice([None, ACC]), ct=random.choice([None, None, "image/svg+xml", "image/png"]))
json.dump(cases, open("corpus.json", "w"))
print(len(cases))
