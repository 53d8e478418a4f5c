#!/usr/bin/python3
"""PyTorch peer benchmark for repopt-dl4j: the same four VGG families, trained the same way, in PyTorch.

What
----
The Java command ``./repopt bench`` measures the DL4J implementation; it starts this script in the same
run, on the same machine, so that DL4J and PyTorch figures can be read side by side. For one preset (an
architecture plus a batch size, identical to the Java presets) it measures, on random float32 data:

* training images/s of four families (Ding et al., "Re-parameterizing Your Optimizers rather than
  Architectures", ICLR 2023, arXiv 2205.15242):

  - ``repopt``    RepOpt-VGG: the plain VGG ``relu(bn(conv3x3(x)))`` re-initialized by the Rule of
                  Initialization and trained by the RepOptimizer (SGD, Nesterov momentum 0.9, L2 weight
                  decay 4e-5 added AFTER each 3x3 kernel's gradient is multiplied by its Grad Mult: the
                  mask multiplies the gradient in place, then stock SGD's step runs). The constant
                  scales are the Hyper-Search init values (docs/METHOD.md#hyper-search-init); the cost does not
                  depend on their values. As in the reference code each Grad Mult is a dense tensor
                  of its kernel's shape, so this family holds one extra kernel-sized buffer;
  - ``nesterovs`` the same plain VGG trained by stock ``torch.optim.SGD(nesterov=True)`` (the paper's
                  "plain SGD" baseline: identical model, no Grad Mult);
  - ``repvgg``    RepVGG: ``relu(bn(conv3x3(x)) + bn(conv1x1(x)) [+ bn(x)])``, stock SGD Nesterov;
  - ``hs``        Hyper-Search / CSLA: ``relu(bn(s3*conv3x3(x) + s1*conv1x1(x) [+ sid*x]))`` with
                  trainable per-output-channel scales, stock SGD Nesterov.

* peak memory of each family: the peak resident set size (``VmHWM`` of ``/proc/self/status``) of a
  FRESH subprocess that builds that one family, trains ``--mem-iters`` iterations at the preset batch
  and exits; the subprocesses run before the timed training, while the parent is still small. Not
  ``ru_maxrss``: Linux carries a parent's peak into a child across fork/vfork + exec, so a child's
  ``ru_maxrss`` can be its parent's peak. The subprocess's current RSS right after importing torch
  (before any model exists) is reported too, and ``peak - baseline`` as the family's own share
  (parameters, gradients, momentum, Grad Mult masks, activations, allocator slack). The subprocess runs
  with ``MALLOC_MMAP_THRESHOLD_=131072`` (glibc's default initial value, fixed): with glibc's dynamic
  threshold the same run's peak varied by +-100 MB (b1-cifar) from run to run; fixed, it repeats to
  within 1 MB and is closer to the tensors' own footprint. ``--malloc-stock`` leaves glibc alone.
  The timed training in the main process always runs with the stock allocator. This is peak RSS, not
  the largest batch that trains.

* inference images/s of the deployed RepOpt-VGG: the plain model with each BatchNorm folded into its
  conv (``conv3x3 + bias + relu`` stack, then pooling and the linear head), eval mode, ``torch.no_grad()``,
  at the preset batch.

Two quick correctness checks run first (printed, not timed; float64, tiny shapes):

* RepVGG fusion: a RepVGG model (eval mode, random BN statistics) fused into one 3x3 conv + bias per
  block gives the same logits;
* Gradient Re-parameterization: a CSLA model with constant s3, s1 (trainable, decayed identity scale)
  trained by stock SGD Nesterov, and the plain model re-initialized from it by the Rule of
  Initialization and trained by this script's RepOptimizer, give the same logits after a few steps.

Timing protocol: ``torch.set_num_threads(N)`` with N = ``os.cpu_count()`` unless ``--threads``. Each family
first runs ``--warmup`` iterations, then ``--reps`` repetitions of ``--iters`` iterations are timed with
``time.perf_counter``; within each repetition the families run interleaved (repopt, nesterovs, repvgg,
hs, repopt, ...) so that machine drift hits all alike. Other processes' CPU use during each family's
repetition (``/proc/stat`` busy time minus this process's own CPU time, in cores) is printed and kept
in the JSON: OpenMP threads slow down many-fold when another process takes a core, so a repetition
with foreign load well above 0 is contended. One repetition's figure is
``iters * batch / seconds``; the table and JSON give the median and the spread (min, max) over the
repetitions. One iteration is ``zero_grad(set_to_none=True)``, forward, cross-entropy, backward and
the optimizer step, on one fixed random batch (generated once, so data generation is not timed).
Weight decay applies to conv kernels, the linear weight and (HS) the identity scale, never to
BatchNorm parameters or biases, in every family. Settings are seeded (``--seed``).

How to run
----------
    /usr/bin/python3 bench/pytorch_peer.py --preset small
    /usr/bin/python3 bench/pytorch_peer.py --preset b1-cifar --json out.json
    /usr/bin/python3 bench/pytorch_peer.py --preset small --warmup 3 --reps 3 --iters 10 --threads 2

Default settings per preset are printed at start; on an idle 2-core machine ``small`` takes about
1.5 minutes and ``b1-cifar`` about 3.5 minutes. Presets (must match the Java side): ``small``
(1x28x28, 10 classes, stem 16 stride 1, stages (2,32,2), (2,64,2), (1,128,2), batch 64) and
``b1-cifar`` (RepOpt-VGG-B1 widths at 3x32x32, 100 classes, stem 64 stride 2, stages (4,128,2),
(6,256,2), (16,512,2), (1,2048,2), batch 32).

Output: a table on stdout and, with ``--json FILE``, one JSON object (written atomically) with keys
``pytorch_{repopt,nesterovs,repvgg,hs}_imgs_per_sec`` (medians), ``pytorch_deploy_infer_imgs_per_sec``,
``pytorch_{repopt,nesterovs,repvgg,hs}_peak_rss_mb``, per-family ``{median, min, max, reps,
foreign_cpu_cores}`` under ``training``, the preset and its spec, torch version, threads, CPU model,
load averages, CPU idle at start and the exact settings. Exit code 3 with a message starting
"PyTorch peer not available" if torch cannot be imported;
exit code 2 for bad arguments; 1 if a check or a measurement fails.
"""

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

EXIT_NO_TORCH = 3

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as e:  # the Java side reports "PyTorch peer not available" on this exit code
    sys.stderr.write("PyTorch peer not available: cannot import torch with %s (%s)\n" % (sys.executable, e))
    sys.exit(EXIT_NO_TORCH)

# glibc's default initial mmap threshold; fixing it turns off the dynamic threshold for stable peak RSS.
MMAP_THRESHOLD = 131072
FAMILIES = ("repopt", "nesterovs", "repvgg", "hs")

# Optimizer settings of the paper / reference code (docs/METHOD.md#update, #training-recipe).
MOMENTUM = 0.9
WEIGHT_DECAY = 4e-5
# Learning rate: 0.1 is the paper's peak; random labels at 0.1 can blow up in a few hundred steps,
# and a NaN run is not a fair timing, so the default is smaller. The cost does not depend on it.
DEFAULT_LR = 0.01


# ----------------------------------------------------------------------------------------------
# Architecture as data
# ----------------------------------------------------------------------------------------------

class VggSpec:
    """A VGG architecture: input C x H x W, K classes, a stem block, then stages.

    ``stem`` is ``(width, stride)``; ``stages`` is a list of ``(depth, width, first_stride)``; the other
    blocks of a stage have stride 1.
    """

    def __init__(self, in_channels, height, width, classes, stem, stages):
        self.in_channels = in_channels
        self.height = height
        self.width = width
        self.classes = classes
        self.stem = stem
        self.stages = stages

    def blocks(self):
        """Every block in forward order as ``(name, in_ch, out_ch, stride, index_in_stage)``.

        The stem is stage 0 (one block, index 0); stages are numbered from 1.
        """
        out = [("stage0.0", self.in_channels, self.stem[0], self.stem[1], 0)]
        ch = self.stem[0]
        for s, (depth, width, stride) in enumerate(self.stages, start=1):
            for i in range(depth):
                out.append(("stage%d.%d" % (s, i), ch, width, stride if i == 0 else 1, i))
                ch = width
        return out

    def to_dict(self):
        return {"input": [self.in_channels, self.height, self.width], "classes": self.classes,
                "stem": {"width": self.stem[0], "stride": self.stem[1]},
                "stages": [{"depth": d, "width": w, "stride": s} for d, w, s in self.stages]}


PRESETS = {
    "small": {"spec": VggSpec(1, 28, 28, 10, (16, 1), [(2, 32, 2), (2, 64, 2), (1, 128, 2)]),
              "batch": 64,
              # ~1-3 minutes on 2 cores for the whole run
              "warmup": 10, "reps": 7, "iters": 150, "mem_iters": 5, "infer_iters": 200},
    "b1-cifar": {"spec": VggSpec(3, 32, 32, 100, (64, 2),
                                 [(4, 128, 2), (6, 256, 2), (16, 512, 2), (1, 2048, 2)]),
                 "batch": 32,
                 # ~5 minutes on 2 cores for the whole run
                 "warmup": 3, "reps": 7, "iters": 20, "mem_iters": 3, "infer_iters": 30},
}


def hs_init_scales(spec):
    """Constant CSLA scales per block, the Hyper-Search init (docs/METHOD.md#hyper-search-init).

    Block i of a stage gets ``s3 = s1 = 1`` if i == 0 else ``sqrt(2/i)``; the stem gets 1; ``sid = 1``
    where an identity branch exists (in == out and stride 1), else None.
    Returned as a list of ``(s3, s1, sid_or_None)`` scalars, one per block in forward order.
    """
    out = []
    for name, cin, cout, stride, i in spec.blocks():
        s = 1.0 if i == 0 else math.sqrt(2.0 / i)
        out.append((s, s, 1.0 if has_identity(cin, cout, stride) else None))
    return out


def has_identity(cin, cout, stride):
    return cin == cout and stride == 1


# ----------------------------------------------------------------------------------------------
# Blocks and models
# ----------------------------------------------------------------------------------------------

class PlainBlock(nn.Module):
    """RepOpt-VGG / plain VGG block: ``relu(bn(conv3x3(x)))``, no conv bias, padding 1."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class RepVGGBlock(nn.Module):
    """RepVGG block: ``relu(bn(conv3x3(x)) + bn(conv1x1(x)) [+ bn(x)])``, identity iff in == out, stride 1."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv3 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.conv1 = nn.Conv2d(cin, cout, 1, stride, 0, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.bn_id = nn.BatchNorm2d(cout) if has_identity(cin, cout, stride) else None

    def forward(self, x):
        y = self.bn3(self.conv3(x)) + self.bn1(self.conv1(x))
        if self.bn_id is not None:
            y = y + self.bn_id(x)
        return F.relu(y)

    def fused_conv(self):
        """The one 3x3 conv (with bias) equal to this block's pre-ReLU output in eval mode."""
        k3, b3 = fold_bn(self.conv3.weight, self.bn3)
        k1, b1 = fold_bn(F.pad(self.conv1.weight, [1, 1, 1, 1]), self.bn1)
        k, b = k3 + k1, b3 + b1
        if self.bn_id is not None:
            c = self.conv3.in_channels
            ident = torch.zeros_like(self.conv3.weight)
            ident[torch.arange(c), torch.arange(c), 1, 1] = 1.0
            ki, bi = fold_bn(ident, self.bn_id)
            k, b = k + ki, b + bi
        return make_conv_with_bias(self.conv3, k, b)


class HSBlock(nn.Module):
    """Hyper-Search (CSLA) block: ``relu(bn(s3*conv3x3(x) + s1*conv1x1(x) [+ sid*x]))``.

    ``s3``, ``s1``, ``sid`` are per-output-channel scales of shape ``[1, C, 1, 1]``, one BN after the sum.
    """

    def __init__(self, cin, cout, stride, s3, s1, sid, trainable_s3_s1=True):
        super().__init__()
        self.conv3 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.conv1 = nn.Conv2d(cin, cout, 1, stride, 0, bias=False)
        self.s3 = nn.Parameter(torch.full((1, cout, 1, 1), s3), requires_grad=trainable_s3_s1)
        self.s1 = nn.Parameter(torch.full((1, cout, 1, 1), s1), requires_grad=trainable_s3_s1)
        self.sid = nn.Parameter(torch.full((1, cout, 1, 1), sid)) if sid is not None else None
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        y = self.s3 * self.conv3(x) + self.s1 * self.conv1(x)
        if self.sid is not None:
            y = y + self.sid * x
        return F.relu(self.bn(y))


class DeployBlock(nn.Module):
    """A deployed block: ``relu(conv3x3(x) + bias)``."""

    def __init__(self, conv):
        super().__init__()
        self.conv = conv

    def forward(self, x):
        return F.relu(self.conv(x))


class Vgg(nn.Module):
    """Blocks in forward order, global average pooling, a linear layer to the classes."""

    def __init__(self, blocks, last_width, classes):
        super().__init__()
        self.blocks = nn.Sequential(*blocks)
        self.linear = nn.Linear(last_width, classes)

    def forward(self, x):
        x = self.blocks(x)
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self.linear(x)


def last_width(spec):
    return spec.stages[-1][1] if spec.stages else spec.stem[0]


def build_plain(spec):
    return Vgg([PlainBlock(ci, co, s) for _, ci, co, s, _ in spec.blocks()], last_width(spec), spec.classes)


def build_repvgg(spec):
    return Vgg([RepVGGBlock(ci, co, s) for _, ci, co, s, _ in spec.blocks()], last_width(spec), spec.classes)


def build_hs(spec, trainable_s3_s1=True):
    blocks = []
    for (_, ci, co, s, _), (s3, s1, sid) in zip(spec.blocks(), hs_init_scales(spec)):
        blocks.append(HSBlock(ci, co, s, s3, s1, sid, trainable_s3_s1))
    return Vgg(blocks, last_width(spec), spec.classes)


def fold_bn(kernel, bn):
    """Fold an eval-mode BatchNorm into the conv kernel before it: returns ``(kernel', bias')``."""
    std = torch.sqrt(bn.running_var + bn.eps)
    t = bn.weight / std
    return kernel * t.reshape(-1, 1, 1, 1), bn.bias - bn.running_mean * t


def make_conv_with_bias(like, kernel, bias):
    conv = nn.Conv2d(like.in_channels, like.out_channels, 3, like.stride, 1, bias=True)
    conv = conv.to(dtype=kernel.dtype)
    with torch.no_grad():
        conv.weight.copy_(kernel)
        conv.bias.copy_(bias)
    return conv


def fuse_repvgg(model):
    """RepVGG model -> plain deploy model (one 3x3 conv + bias + ReLU per block); input untouched."""
    with torch.no_grad():
        blocks = [DeployBlock(b.fused_conv()) for b in model.blocks]
        out = Vgg(blocks, model.linear.in_features, model.linear.out_features).to(model.linear.weight.dtype)
        out.linear.load_state_dict(model.linear.state_dict())
    return out.eval()


def deploy_plain(model):
    """Trained RepOpt-VGG (plain) model -> deploy model with each BN folded into its conv; input untouched."""
    with torch.no_grad():
        blocks = []
        for b in model.blocks:
            k, bias = fold_bn(b.conv.weight, b.bn)
            blocks.append(DeployBlock(make_conv_with_bias(b.conv, k, bias)))
        out = Vgg(blocks, model.linear.in_features, model.linear.out_features).to(model.linear.weight.dtype)
        out.linear.load_state_dict(model.linear.state_dict())
    return out.eval()


# ----------------------------------------------------------------------------------------------
# Gradient Re-parameterization: Rule of Initialization, Grad Mult, RepOptimizer SGD
# ----------------------------------------------------------------------------------------------

def equivalent_kernel(w3, w1, s3, s1, sid):
    """Rule of Initialization (docs/METHOD.md#rule-of-initialization): ``W' = s3*W3 + pad1(s1*W1) [+ pad1(I*sid)]``.

    ``s3``, ``s1``, ``sid`` are per-output-channel tensors of shape ``[C]`` (sid may be None).
    """
    w = w3 * s3.reshape(-1, 1, 1, 1) + F.pad(w1 * s1.reshape(-1, 1, 1, 1), [1, 1, 1, 1])
    if sid is not None:
        c = w3.shape[0]
        w[torch.arange(c), torch.arange(c), 1, 1] += sid
    return w


def grad_mult(shape, s3, s1, identity, dtype=torch.float32):
    """Grad Mult of one 3x3 kernel, SGD form, power 2 (docs/METHOD.md#grad-mult).

    ``M = s3[o]^2`` everywhere, ``+ s1[o]^2`` at the centre tap, ``+ 1`` at the diagonal centre for
    identity blocks (a constant 1, not sid^2).
    """
    out_ch, in_ch = shape[0], shape[1]
    m = (s3.to(dtype) ** 2).reshape(-1, 1, 1, 1).expand(shape).clone()
    m[:, :, 1, 1] += (s1.to(dtype) ** 2).reshape(-1, 1)
    if identity:
        m[torch.arange(out_ch), torch.arange(in_ch), 1, 1] += 1.0
    return m


def reinit_plain(model, scales, seed):
    """Re-initialize a fresh plain model as the equivalent of a fresh CSLA model with constant ``scales``.

    W3 is the conv's own fresh init, W1 a fresh 1x1 kernel init (PyTorch's default conv init, seeded).
    """
    gen_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    with torch.no_grad():
        for b, (s3, s1, sid) in zip(model.blocks, scales):
            conv = b.conv
            w1 = nn.Conv2d(conv.in_channels, conv.out_channels, 1, bias=False).weight.to(conv.weight.dtype)
            c = conv.out_channels
            full = lambda v: torch.full((c,), v, dtype=conv.weight.dtype)
            conv.weight.copy_(equivalent_kernel(conv.weight, w1, full(s3), full(s1),
                                                full(sid) if sid is not None else None))
    torch.random.set_rng_state(gen_state)


class RepOptimizerSGD(torch.optim.SGD):
    """SGD with Nesterov momentum whose kernel gradients are multiplied by a fixed Grad Mult first.

    Per parameter (docs/METHOD.md#update): ``d = grad * M`` (masked kernels only), ``d += wd * p``
    (L2 after the multiplier), ``buf = d`` on the first step else ``momentum*buf + d`` (dampening 0),
    ``d += momentum*buf`` (Nesterov), ``p -= lr * d``: the reference code's RepOptimizerSGD update.
    The multiply is done in place on the gradient, then stock ``torch.optim.SGD.step`` does the rest,
    so the only cost this adds over the ``nesterovs`` family is the Grad Mult itself (one
    element-wise multiply per kernel per step). ``masks`` maps a parameter to its Grad Mult tensor.
    """

    def __init__(self, param_groups, masks, lr, momentum=MOMENTUM):
        super().__init__(param_groups, lr=lr, momentum=momentum, nesterov=True)
        self.masks = masks

    @torch.no_grad()
    def step(self, closure=None):
        if closure is not None:  # a closure would recompute gradients after the multiply
            raise ValueError("RepOptimizerSGD.step takes no closure; call backward() before step()")
        for p, mask in self.masks.items():
            if p.grad is not None:
                p.grad.mul_(mask)
        return super().step()


def param_groups(model):
    """Weight decay on conv kernels, the linear weight and HS identity scales; none on BN or biases.

    HS ``s3``/``s1`` are not decayed (the reference code's set_weight_decay skips its 1-D scale vectors);
    the identity scale is decayed because the Rule of Iteration's equivalence needs it (docs/METHOD.md#update).
    """
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        leaf = name.rsplit(".", 1)[-1]
        if (p.dim() == 4 and leaf == "weight") or name == "linear.weight" or leaf == "sid":
            decay.append(p)
        else:
            no_decay.append(p)
    return [{"params": decay, "weight_decay": WEIGHT_DECAY}, {"params": no_decay, "weight_decay": 0.0}]


def build_family(family, spec, lr, seed):
    """Build ``(model, optimizer)`` for one family, seeded so every run starts identically."""
    torch.manual_seed(seed)
    if family == "repopt":
        model = build_plain(spec)
        scales = hs_init_scales(spec)
        reinit_plain(model, scales, seed + 1)
        masks = {}
        for b, (name, ci, co, s, _), (s3, s1, sid) in zip(model.blocks, spec.blocks(), scales):
            w = b.conv.weight
            masks[w] = grad_mult(w.shape, torch.full((co,), s3), torch.full((co,), s1),
                                 has_identity(ci, co, s), w.dtype)
        return model, RepOptimizerSGD(param_groups(model), masks, lr)
    if family == "nesterovs":
        model = build_plain(spec)
    elif family == "repvgg":
        model = build_repvgg(spec)
    elif family == "hs":
        model = build_hs(spec)
    else:
        raise ValueError("unknown family %r, expected one of %s" % (family, ", ".join(FAMILIES)))
    return model, torch.optim.SGD(param_groups(model), lr=lr, momentum=MOMENTUM, nesterov=True)


# ----------------------------------------------------------------------------------------------
# Checks (float64, tiny shapes, not timed)
# ----------------------------------------------------------------------------------------------

CHECK_SPEC = VggSpec(3, 8, 8, 5, (4, 1), [(3, 6, 2), (2, 6, 1)])


def check_repvgg_fusion(spec, seed):
    """Max |logits(RepVGG, eval) - logits(fused)| with random BN statistics, float64."""
    torch.manual_seed(seed)
    model = build_repvgg(spec).double()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
    model.eval()
    fused = fuse_repvgg(model)
    x = torch.randn(2, spec.in_channels, spec.height, spec.width, dtype=torch.float64)
    with torch.no_grad():
        a, b = model(x), fused(x)
    return (a - b).abs().max().item(), a.abs().max().item()


def check_gr_equivalence(spec, seed, steps=5, lr=0.05):
    """Max |logits| difference between a CSLA model (constant s3, s1) trained by stock SGD Nesterov and
    the plain model re-initialized from it and trained by RepOptimizerSGD, after ``steps`` steps, float64."""
    torch.manual_seed(seed)
    csla = build_hs(spec, trainable_s3_s1=False).double()
    with torch.no_grad():  # non-trivial constant scales and identity scales
        for b in csla.blocks:
            b.s3.uniform_(0.5, 1.5)
            b.s1.uniform_(0.5, 1.5)
            if b.sid is not None:
                b.sid.uniform_(0.5, 1.5)
    plain = build_plain(spec).double()
    masks = {}
    with torch.no_grad():
        for pb, cb in zip(plain.blocks, csla.blocks):
            s3, s1 = cb.s3.reshape(-1), cb.s1.reshape(-1)
            sid = cb.sid.reshape(-1) if cb.sid is not None else None
            pb.conv.weight.copy_(equivalent_kernel(cb.conv3.weight, cb.conv1.weight, s3, s1, sid))
            masks[pb.conv.weight] = grad_mult(pb.conv.weight.shape, s3, s1, sid is not None, torch.float64)
        plain.linear.load_state_dict(csla.linear.state_dict())
    opt_c = torch.optim.SGD(param_groups(csla), lr=lr, momentum=MOMENTUM, nesterov=True)
    opt_p = RepOptimizerSGD(param_groups(plain), masks, lr)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        x = torch.randn(8, spec.in_channels, spec.height, spec.width, dtype=torch.float64, generator=gen)
        y = torch.randint(0, spec.classes, (8,), generator=gen)
        for model, opt in ((csla, opt_c), (plain, opt_p)):
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), y).backward()
            opt.step()
    x = torch.randn(4, spec.in_channels, spec.height, spec.width, dtype=torch.float64, generator=gen)
    with torch.no_grad():
        a, b = csla(x), plain(x)
    return (a - b).abs().max().item(), a.abs().max().item()


# ----------------------------------------------------------------------------------------------
# Measurements
# ----------------------------------------------------------------------------------------------

def cpu_path():
    """What PyTorch computes with: its default CPU path, oneDNN (mkldnn) convolutions on contiguous NCHW tensors."""
    return ("oneDNN (torch.backends.mkldnn) available=%s enabled=%s; float32 tensors in PyTorch's default "
            "contiguous NCHW memory format; %d threads" % (torch.backends.mkldnn.is_available(),
                                                          torch.backends.mkldnn.enabled, torch.get_num_threads()))


def random_batch(spec, batch, seed):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, spec.in_channels, spec.height, spec.width, generator=gen)
    y = torch.randint(0, spec.classes, (batch,), generator=gen)
    return x, y


def train_iters(model, opt, x, y, n):
    """Run n training iterations; return the last loss (a float, read after the loop)."""
    loss = None
    for _ in range(n):
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    return float(loss) if loss is not None else float("nan")


def summary(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "reps": values}


def measure_training(spec, families, batch, args):
    """Interleaved timing of every family; returns ``{family: summary}`` and the final losses."""
    x, y = random_batch(spec, batch, args.seed + 100)
    built = {}
    for f in families:
        model, opt = build_family(f, spec, args.lr, args.seed)
        model.train()
        built[f] = (model, opt)
    for f in families:  # warm-up, interleaved as well
        train_iters(*built[f], x, y, args.warmup)
    per_rep = {f: [] for f in families}
    foreign = {f: [] for f in families}
    losses = {}
    for r in range(args.reps):
        for f in families:
            model, opt = built[f]
            probe = ForeignCpu()
            t0 = time.perf_counter()
            losses[f] = train_iters(model, opt, x, y, args.iters)
            dt = time.perf_counter() - t0
            foreign[f].append(probe.cores())
            per_rep[f].append(args.iters * batch / dt)
        print("  rep %d/%d: %s" % (r + 1, args.reps, ", ".join(
            "%s %.1f (foreign %.2f)" % (f, per_rep[f][-1], foreign[f][-1]) for f in families)), flush=True)
    for f, loss in losses.items():
        if not math.isfinite(loss):
            raise RuntimeError("family %s: training loss became %r; lower --lr (now %g)" % (f, loss, args.lr))
    out = {f: summary(v) for f, v in per_rep.items()}
    for f in families:
        out[f]["foreign_cpu_cores"] = foreign[f]
    return out, losses, built


def measure_inference(model, spec, batch, args):
    """Images/s of ``model`` (already eval, deployed) under no_grad: warm-up, then reps x infer_iters."""
    x, _ = random_batch(spec, batch, args.seed + 200)
    vals, foreign = [], []
    with torch.no_grad():
        for _ in range(max(1, args.warmup)):
            model(x)
        for _ in range(args.reps):
            probe = ForeignCpu()
            t0 = time.perf_counter()
            for _ in range(args.infer_iters):
                model(x)
            vals.append(args.infer_iters * batch / (time.perf_counter() - t0))
            foreign.append(probe.cores())
    out = summary(vals)
    out["foreign_cpu_cores"] = foreign
    return out


def proc_status_mb(field):
    """``VmRSS`` (current) or ``VmHWM`` (peak) resident set size of this process in MiB.

    Why not ``getrusage(RUSAGE_SELF).ru_maxrss``: Linux carries the parent's peak into a child across
    fork/vfork + exec, so a subprocess of a big parent would report the parent's peak. ``VmHWM`` is
    the peak of this process's own address space only.
    """
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0  # kB
    raise RuntimeError("/proc/self/status has no %s line; peak RSS needs Linux" % field)


def memory_child(args):
    """Subprocess entry: build one family, train mem_iters iterations, print peak RSS as JSON."""
    torch.set_num_threads(args.threads)
    spec, batch = PRESETS[args.preset]["spec"], args.batch
    base = proc_status_mb("VmRSS")
    model, opt = build_family(args.memory_child, spec, args.lr, args.seed)
    model.train()
    x, y = random_batch(spec, batch, args.seed + 100)
    loss = train_iters(model, opt, x, y, args.mem_iters)
    peak = proc_status_mb("VmHWM")
    print(json.dumps({"family": args.memory_child, "baseline_rss_mb": base, "peak_rss_mb": peak,
                      "model_share_mb": peak - base, "loss": loss}))
    return 0


def measure_memory(family, args):
    cmd = [sys.executable, os.path.abspath(__file__), "--memory-child", family, "--preset", args.preset,
           "--threads", str(args.threads), "--mem-iters", str(args.mem_iters), "--lr", repr(args.lr),
           "--seed", str(args.seed), "--batch", str(args.batch)]
    env = dict(os.environ)
    if not args.malloc_stock:
        env["MALLOC_MMAP_THRESHOLD_"] = str(MMAP_THRESHOLD)
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise RuntimeError("memory subprocess for %s failed (exit %d): %s"
                           % (family, p.returncode, p.stderr.strip()))
    return json.loads(p.stdout.strip().splitlines()[-1])


def _cpu_ticks():
    """``(busy, total)`` CPU ticks of the whole machine from the first line of /proc/stat."""
    with open("/proc/stat") as fh:
        vals = [int(v) for v in fh.readline().split()[1:]]
    idle = vals[3] + (vals[4] if len(vals) > 4 else 0)  # idle + iowait
    total = sum(vals[:8])                                # guest time is already inside user
    return total - idle, total


def cpu_idle_percent(seconds):
    """Percent of the machine's CPU time that was idle over the next ``seconds``."""
    b0, t0 = _cpu_ticks()
    time.sleep(seconds)
    b1, t1 = _cpu_ticks()
    return 100.0 * (1.0 - (b1 - b0) / max(1, t1 - t0))


class ForeignCpu:
    """Measures how many cores OTHER processes used between construction and ``cores()``.

    Machine busy time (/proc/stat) minus this process's own user+system time (all its threads),
    divided by the wall time. Tick granularity is 10 ms, so short intervals read roughly.
    """

    _TICK = float(os.sysconf("SC_CLK_TCK"))

    def __init__(self):
        self.busy0, _ = _cpu_ticks()
        t = os.times()
        self.self0 = t.user + t.system
        self.wall0 = time.perf_counter()

    def cores(self):
        busy1, _ = _cpu_ticks()
        t = os.times()
        wall = max(1e-9, time.perf_counter() - self.wall0)
        other = (busy1 - self.busy0) / self._TICK - (t.user + t.system - self.self0)
        return max(0.0, other / wall)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def write_json_atomically(path, obj):
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".pytorch_peer.", suffix=".json", dir=d)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(obj, fh, indent=2, sort_keys=False)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def count_params(model):
    return sum(p.numel() for p in model.parameters())


# ----------------------------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------------------------

def parse_args(argv):
    ap = argparse.ArgumentParser(description="PyTorch peer benchmark for repopt-dl4j (see the module docstring).")
    ap.add_argument("--preset", choices=sorted(PRESETS), default="small")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                    help="torch.set_num_threads (default: os.cpu_count())")
    ap.add_argument("--warmup", type=int, help="warm-up iterations per family (preset default)")
    ap.add_argument("--reps", type=int, help="timed repetitions (preset default)")
    ap.add_argument("--iters", type=int, help="training iterations per repetition (preset default)")
    ap.add_argument("--infer-iters", type=int, help="inference forward passes per repetition (preset default)")
    ap.add_argument("--mem-iters", type=int, help="training iterations in each memory subprocess (preset default)")
    ap.add_argument("--batch", type=int, help="batch size (default: the preset's; change it only for experiments)")
    ap.add_argument("--lr", type=float, default=DEFAULT_LR)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--families", default=",".join(FAMILIES),
                    help="comma-separated subset of %s (default: all)" % ",".join(FAMILIES))
    ap.add_argument("--skip-memory", action="store_true", help="do not run the peak-RSS subprocesses")
    ap.add_argument("--malloc-stock", action="store_true",
                    help="memory subprocesses keep glibc's dynamic mmap threshold (noisier peak RSS)")
    ap.add_argument("--skip-checks", action="store_true", help="do not run the fusion / equivalence checks")
    ap.add_argument("--json", metavar="FILE", help="also write the results as one JSON object")
    ap.add_argument("--memory-child", choices=FAMILIES, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    preset = PRESETS[args.preset]
    for key in ("warmup", "reps", "iters", "infer_iters", "mem_iters", "batch"):
        if getattr(args, key) is None:
            setattr(args, key, preset[key])
    for key, low in (("threads", 1), ("warmup", 0), ("reps", 1), ("iters", 1), ("infer_iters", 1),
                     ("mem_iters", 1), ("batch", 1)):
        if getattr(args, key) < low:
            ap.error("--%s is %d, expected >= %d" % (key.replace("_", "-"), getattr(args, key), low))
    if not (args.lr > 0 and math.isfinite(args.lr)):
        ap.error("--lr is %r, expected a finite positive number" % args.lr)
    fams = [f.strip() for f in args.families.split(",") if f.strip()]
    bad = [f for f in fams if f not in FAMILIES]
    if bad or not fams:
        ap.error("--families has %r, expected a non-empty subset of %s" % (bad or fams, ",".join(FAMILIES)))
    args.family_list = [f for f in FAMILIES if f in fams]  # keep the canonical interleaving order
    return args


def main(argv):
    args = parse_args(argv)
    if args.memory_child:
        return memory_child(args)
    torch.set_num_threads(args.threads)
    spec, batch = PRESETS[args.preset]["spec"], args.batch
    fams = args.family_list
    load_start = os.getloadavg()
    settings = {"batch": batch, "warmup": args.warmup, "reps": args.reps, "iters": args.iters,
                "infer_iters": args.infer_iters, "mem_iters": args.mem_iters, "lr": args.lr,
                "momentum": MOMENTUM, "nesterov": True, "weight_decay": WEIGHT_DECAY, "seed": args.seed,
                "dtype": "float32", "families": fams, "memory": "peak RSS (VmHWM) of a fresh subprocess "
                "per family after mem_iters training iterations; baseline = VmRSS after importing torch",
                "memory_malloc": "stock glibc" if args.malloc_stock else
                "MALLOC_MMAP_THRESHOLD_=%d in the memory subprocesses only" % MMAP_THRESHOLD,
                "repopt_scales": "Hyper-Search init values as constants (s3=s1=1 for block 0 of a stage, "
                "else sqrt(2/i); sid=1)", "cpu_path": cpu_path()}
    print("PyTorch peer benchmark: preset %s, torch %s, threads %d, CPU %s, load avg %.2f %.2f %.2f"
          % (args.preset, torch.__version__, torch.get_num_threads(), cpu_model(), *load_start))
    print("CPU path: %s" % settings["cpu_path"])
    if not (torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled):
        print("warning: PyTorch's oneDNN (mkldnn) path is off: this is not PyTorch's default CPU path", flush=True)
    print("settings: batch %d, warm-up %d, reps %d x %d iters, inference %d iters/rep, memory %d iters, "
          "lr %g, momentum %g Nesterov, wd %g, seed %d"
          % (batch, args.warmup, args.reps, args.iters, args.infer_iters, args.mem_iters, args.lr,
             MOMENTUM, WEIGHT_DECAY, args.seed), flush=True)
    idle_start = cpu_idle_percent(1.0)
    print("CPU idle over the last second: %.0f%%" % idle_start)
    if idle_start < 90.0:
        print("warning: the CPU is only %.0f%% idle: other processes compete for it, and OpenMP threads "
              "slow down badly under contention; the figures will be low and noisy" % idle_start, flush=True)

    checks = {}
    if not args.skip_checks:
        diff, scale = check_repvgg_fusion(CHECK_SPEC, args.seed)
        checks["repvgg_fusion_max_abs_diff"] = diff
        print("check: RepVGG fused to one 3x3 conv per block, max |logit diff| %.3g (logits up to %.3g)"
              % (diff, scale))
        gdiff, gscale = check_gr_equivalence(CHECK_SPEC, args.seed)
        checks["gr_equivalence_max_abs_diff"] = gdiff
        print("check: CSLA + SGD vs re-initialized plain + RepOptimizer after 5 steps, max |logit diff| %.3g "
              "(logits up to %.3g)" % (gdiff, gscale), flush=True)
        if not (diff < 1e-9 * max(1.0, scale) and gdiff < 1e-9 * max(1.0, gscale)):
            print("error: a correctness check failed (tolerance 1e-9 relative, float64)", file=sys.stderr)
            return 1

    t_start = time.time()
    memory = {}
    if not args.skip_memory:  # before training, while this process is small
        for f in fams:
            memory[f] = measure_memory(f, args)
            print("memory: %s peak RSS %.0f MB (baseline after importing torch %.0f MB)"
                  % (f, memory[f]["peak_rss_mb"], memory[f]["baseline_rss_mb"]), flush=True)

    print("training (images/s per repetition, families interleaved):", flush=True)
    train, losses, built = measure_training(spec, fams, batch, args)
    infer = None
    if "repopt" in fams:
        deployed = deploy_plain(built["repopt"][0].eval())
        infer = measure_inference(deployed, spec, batch, args)
    params = {f: count_params(built[f][0]) for f in fams}
    del built
    load_end = os.getloadavg()

    print()
    print("training images/s (median, min, max over %d reps), peak RSS MB of a fresh process (and its share "
          "above the torch-import baseline)" % args.reps)
    print("%-10s %10s %10s %10s %8s %12s %10s %8s %11s" % ("family", "median", "min", "max", "foreign",
                                                           "params", "peak RSS", "share", "final loss"))
    for f in fams:
        s = train[f]
        mem = "%.0f" % memory[f]["peak_rss_mb"] if f in memory else "-"
        share = "%.0f" % memory[f]["model_share_mb"] if f in memory else "-"
        print("%-10s %10.1f %10.1f %10.1f %8.2f %12d %10s %8s %11.4f"
              % (f, s["median"], s["min"], s["max"], max(s["foreign_cpu_cores"]), params[f], mem, share,
                 losses[f]))
    if infer:
        print("%-10s %10.1f %10.1f %10.1f %8.2f   (deployed RepOpt-VGG, BN folded, eval, no_grad, batch %d)"
              % ("deploy", infer["median"], infer["min"], infer["max"], max(infer["foreign_cpu_cores"]), batch))
    print("foreign = the most cores other processes used during any one repetition (0 = undisturbed)")
    if memory:
        print("memory subprocess baseline RSS after importing torch: %.0f MB"
              % statistics.median(m["baseline_rss_mb"] for m in memory.values()))
    if "repopt" in fams and "repvgg" in fams:
        print("repopt / repvgg training speed: %.2fx" % (train["repopt"]["median"] / train["repvgg"]["median"]))
    print("load avg at start %.2f %.2f %.2f, at end %.2f %.2f %.2f; wall %.0f s"
          % (*load_start, *load_end, time.time() - t_start))

    if args.json:
        out = {}
        for f in FAMILIES:
            out["pytorch_%s_imgs_per_sec" % f] = train[f]["median"] if f in train else None
        out["pytorch_deploy_infer_imgs_per_sec"] = infer["median"] if infer else None
        for f in FAMILIES:
            out["pytorch_%s_peak_rss_mb" % f] = memory[f]["peak_rss_mb"] if f in memory else None
        out.update({
            "training": train,
            "deploy_infer": infer,
            "memory": memory,
            "final_loss": losses,
            "params": params,
            "checks": checks,
            "preset": args.preset,
            "spec": spec.to_dict(),
            "torch_version": torch.__version__,
            "python_version": platform.python_version(),
            "threads": torch.get_num_threads(),
            "cpu_count": os.cpu_count(),
            "cpu_model": cpu_model(),
            "loadavg_start": list(load_start),
            "loadavg_end": list(load_end),
            "cpu_idle_percent_at_start": idle_start,
            "settings": settings,
            "command": [sys.executable] + [os.path.abspath(__file__)] + list(argv),
        })
        write_json_atomically(args.json, out)
        print("wrote %s" % args.json)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except RuntimeError as e:
        print("error: %s" % e, file=sys.stderr)
        sys.exit(1)
