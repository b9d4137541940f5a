import json, random
random.seed(7)
SB = {"SOURCE_BUCKETS": "bucket-a, bucket-b"}
filters = ["background_color", "blur", "convolution", "fill", "format", "proportion", "quality", "rgb", "rotate", "sharpen", "watermark", "animated", "smart_crop", "stretch", "upscale", "no_upscale"]
atoms = ["0", "1", "5", "9", "00", "12", "255", "-", "+", ".", "e", "E", "x", "X", "b", "o", "a", "f", "F", "ff", "c", "p", "%20", " ", "\u00a0", "\u2003", "\ufeff",
         ",", ";", "Infinity", "NaN", "inf", "1e3", "0x1F", "0b11", "0o7", "_", "١", "red", "RED", "blue", "jpg", "JPG", "png", "webp", "'", "true", "false", "null",
         "100p", "-50p", "101p", "-100p", "key.png", "dir/k.png", "\t"]
cases = []
for _ in range(1200):
    f = random.choice(filters)
    value = "".join(random.choice(atoms) for _ in range(random.randint(0, 6)))
    ext = random.choice(["jpg", "png", "webp", "gif", "tif", "avif", "svg", "JPG"])
    prefix = random.choice(["", "/200x100", "/fit-in", "/fit-in/0x80", "/10x10:50x60"])
    d = {"path": f"{prefix}/filters:{f}({value})/image.{ext}", "env": SB}
    if random.random() < 0.3:
        d["query"] = {random.choice(["width", "height", "rotate", "format", "flip"]): "".join(random.choice(atoms) for _ in range(random.randint(0, 3)))}
    if random.random() < 0.2:
        d["contentType"] = random.choice(["image/svg+xml", "image/png", "image/gif"])
    cases.append(d)
json.dump(cases, open("corpus2.json", "w"))
print(len(cases))
