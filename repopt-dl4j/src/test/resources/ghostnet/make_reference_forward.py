"""Reference forward and backward figures of RepOpt-GhostNet, computed with the reference code's own model
(repoptimizer/repoptghostnet_model.py of DingXiaoH/RepOptimizers, MIT) in float64, for RepOptGhostNetReferenceTest.

Run: /usr/bin/python3 make_reference_forward.py REPO_DIR OUT_DIR   (REPO_DIR: a checkout of the reference code)

No weights are stored: every parameter is a formula of its position, which the Java test evaluates as well.
Parameter j (named_parameters() order) of shape S, c-order index k:
  value[k] = offset + amplitude * sin(0.7 * k + 1.3 * j + 0.1)
with amplitude sqrt(3 / fan_in) for conv and linear weights (fan_in = in/groups * kh * kw) and
(offset, amplitude) = (1, 0.2) for BN weights, (0, 0.1) for BN and conv/linear biases, (1, 0.3) for scales.
Input value at c-order index k of the NCHW batch: 1.5 * sin(0.9 * k + 0.5). Labels: example n has class (3 n + 1) % classes.
Train mode (BatchNorm on batch statistics), dropout 0. Loss: cross-entropy SUMMED over the batch.
Recorded: the logits, and per parameter a gradient probe sum_k grad[k] * cos(0.37 * k) (PyTorch layout, c order).
"""
import contextlib, io, json, math, sys
repo, out_dir = sys.argv[1], sys.argv[2]
sys.path.insert(0, repo)
import torch
from repoptimizer.repoptghostnet_model import repoptghostnet

torch.set_default_dtype(torch.float64)
CASES = [  # (file, width, mode, classes, input C, H, W, batch)
    ("reference-target-w0.25.json", 0.25, "target", 7, 3, 40, 40, 3),
    ("reference-hs-w0.25.json", 0.25, "hs", 7, 3, 40, 40, 3),
]


def rule(name, p, bn_modules):
    """(offset, amplitude) of a parameter; see the docstring."""
    if p.dim() > 1:
        return 0.0, math.sqrt(3.0 / p[0].numel())
    if name.endswith(".bias"):
        return 0.0, 0.1
    if name.rsplit(".", 1)[0] in bn_modules:
        return 1.0, 0.2
    return 1.0, 0.3  # a ScaleLayer (Hyper-Search cheap or fusion scale)


for fname, width, mode, classes, c, h, w, n in CASES:
    with contextlib.redirect_stdout(io.StringIO()):
        model = repoptghostnet(width=width, mode=mode, num_classes=classes, dropout=0.0)
    model.train()
    bn_modules = {nm for nm, m in model.named_modules() if isinstance(m, torch.nn.BatchNorm2d)}
    params = []
    with torch.no_grad():
        for j, (name, p) in enumerate(model.named_parameters()):
            offset, amplitude = rule(name, p, bn_modules)
            k = torch.arange(p.numel(), dtype=torch.float64)
            p.copy_((offset + amplitude * torch.sin(0.7 * k + 1.3 * j + 0.1)).reshape(p.shape))
            params.append({"name": name, "shape": list(p.shape), "offset": offset, "amplitude": amplitude})
    k = torch.arange(n * c * h * w, dtype=torch.float64)
    x = (1.5 * torch.sin(0.9 * k + 0.5)).reshape(n, c, h, w)
    y = torch.tensor([(3 * i + 1) % classes for i in range(n)])
    logits = model(x)
    loss = torch.nn.functional.cross_entropy(logits, y, reduction="sum")
    loss.backward()
    for entry, (name, p) in zip(params, model.named_parameters()):
        g = p.grad.reshape(-1)
        entry["grad_probe"] = float((g * torch.cos(0.37 * torch.arange(g.numel(), dtype=torch.float64))).sum())
    doc = {"about": __doc__.strip(), "width": width, "mode": mode, "classes": classes, "input": [n, c, h, w],
           "labels": y.tolist(), "loss": float(loss), "logits": logits.detach().tolist(), "params": params}
    with open(out_dir + "/" + fname, "w") as f:
        json.dump(doc, f, indent=1)
    print(fname, len(params), "parameters, loss", float(loss))
