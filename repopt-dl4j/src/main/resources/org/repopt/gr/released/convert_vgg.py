"""Convert the released RepOpt-VGG-{B1,B2,L1,L2}-scales.pth (DingXiaoH/RepOptimizers, MIT) to the project's JSON scales
form, with check figures of the SGD Grad Mult that the reference code derives from them.
Run: /usr/bin/python3 convert_vgg.py REPO_DIR VARIANT OUT.json   (REPO_DIR: an extracted copy of the reference repo;
VARIANT: B1, B2, L1 or L2)"""
import json, sys
repo, variant, out = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, repo)
import torch
from repoptimizer.repoptvgg_model import RepOptVGG
from repoptimizer.repoptvgg_impl import RepOptVGGHandler, extract_RepOptVGG_scales_from_pth

# the architectures of the reference code's main_repopt.py
ARCH = {"B1": ([4, 6, 16, 1], [2, 2, 2, 4]), "B2": ([4, 6, 16, 1], [2.5, 2.5, 2.5, 5]),
        "L1": ([8, 14, 24, 1], [2, 2, 2, 4]), "L2": ([8, 14, 24, 1], [2.5, 2.5, 2.5, 5])}
num_blocks, width = ARCH[variant]
pth = f"{repo}/RepOpt-VGG-{variant}-scales.pth"
raw = torch.load(pth, map_location="cpu")
scales = extract_RepOptVGG_scales_from_pth(num_blocks, width, pth)   # per block: ([identity,] 1x1, conv), forward order
target = RepOptVGG(num_blocks=num_blocks, width_multiplier=width, mode="target", num_classes=1000)
names = ["stage0"] + [f"stage{s}.{i}" for s in range(1, 5) for i in range(num_blocks[s - 1])]
handler = RepOptVGGHandler(target, scales, reinit=False, update_rule="sgd", cpu_mode=True)
masks = handler.generate_grad_mults()
assert len(names) == len(handler.convs) == len(scales)
blocks = []
for name, conv, s in zip(names, handler.convs, scales):
    m = masks[conv.weight].double()
    identity, s1, s3 = (s[0], s[1], s[2]) if len(s) == 3 else (None, s[0], s[1])
    # the file's values must be the .pth's own, unchanged
    assert torch.equal(raw[name + ".scale_conv.weight"], s3) and torch.equal(raw[name + ".scale_1x1.weight"], s1)
    assert identity is None or torch.equal(raw[name + ".scale_identity.weight"], identity)
    o, i = conv.out_channels, conv.in_channels
    blocks.append({
        "block": name, "in_channels": i, "out_channels": o, "stride": conv.stride[0],
        "scale_identity": None if identity is None else [float(v) for v in identity],
        "scale_conv": [float(v) for v in s3], "scale_1x1": [float(v) for v in s1],
        "check_grad_mult_sgd": {"sum": float(m.sum()), "at_0_0_1_1": float(m[0, 0, 1, 1]),
                                "at_0_0_0_0": float(m[0, 0, 0, 0]), "at_last_last_1_1": float(m[o - 1, i - 1, 1, 1])},
    })
doc = {
    "model": f"RepOpt-VGG-{variant}",
    "num_blocks": num_blocks,
    "width_multiplier": width,
    "source": f"Hyper-Search scales released with the paper (RepOpt-VGG-{variant}-scales.pth, DingXiaoH/RepOptimizers, "
              "MIT License), searched on CIFAR-100; converted to JSON, values unchanged (float32 read as float). Blocks "
              "in forward order; every scale is indexed by output channel. check_grad_mult_sgd: figures of the SGD Grad "
              "Mult (power 2) that the reference code derives from these scales, for a [out,in,3,3] kernel.",
    "blocks": blocks,
}
json.dump(doc, open(out, "w"), indent=1)
print(len(blocks), "blocks written to", out)
