#!/usr/bin/env python3
"""Capture the expert routing of a Hugging Face transformers MoE model as occult JSONL.

One record per (forward pass, token, MoE layer), the format `occult trace import` reads
(docs/traces.md):

    {"pass": 3, "token_idx": 17, "token": 2201, "layer": 5, "topk_ids": [12, 40], "topk_weights": [0.61, 0.2]}

`pass` counts the model's forward calls (with generate(): the prefill, then one per decode step),
`token_idx` is the token's row in the pass (batch-major, padding included in the numbering), `token`
its vocabulary id, `layer` the decoder layer index (model.layers[i]). Padding tokens are not written.
The first line is a {"type": "meta", ...} header, which the importer skips.

Which module is hooked (transformers 5; see docs/traces.md for the per-architecture table): the input
of each MoE block's `experts` module, `experts(hidden_states, top_k_index, top_k_weights)`. Every
supported architecture computes its routing (softmax or sigmoid, grouped top-k, correction bias,
renormalisation, scaling factor) before that call, so these are the experts and gate weights the
model actually uses, whatever its router returns. Where a model has no such module (transformers 4),
the block's `gate` is hooked instead when it returns expert indices (a router that returns only logits
is reported as unsupported, rather than re-implemented here).

Library use:
    with RoutingCapture(model, "routing.jsonl"):
        model.generate(**inputs)

Command line (python3 occult_capture.py --help):
    python3 occult_capture.py --model allenai/OLMoE-1B-7B-0924 --prompts prompts.txt -o olmoe.jsonl
    python3 occult_capture.py --tiny-random mixtral -o tiny.jsonl     # no weights needed
"""

import argparse
import json
import re
import sys

# The pure-Python part (RoutingWriter) needs neither torch nor transformers, so that it can be tested
# anywhere; torch is imported where hooks are installed.


class CaptureError(RuntimeError):
    pass


def moe_shape(config):
    """(experts, top_k) from a transformers config; the field names differ by architecture."""
    if hasattr(config, "get_text_config"):
        config = config.get_text_config()
    experts = None
    for name in ("num_experts", "num_local_experts", "n_routed_experts"):
        if getattr(config, name, None):
            experts = int(getattr(config, name))
            break
    top_k = getattr(config, "num_experts_per_tok", None)
    return experts, (int(top_k) if top_k else None)


class RoutingWriter:
    """Writes routing records as JSONL: one forward pass after another, layer by layer.

    begin_pass() opens a pass with its tokens (vocabulary ids, flattened batch-major) and which of them
    are real (not padding); write_layer() then writes one layer's top-k ids and weights for every row
    of the pass. A layer seen twice within a pass means that a new pass began without begin_pass()
    (a model called below the hooked top-level module): a new pass is opened then.
    """

    def __init__(self, stream):
        self.stream = stream
        self.passes = 0
        self.records = {}  # layer -> records written
        self._pass = -1
        self._tokens = None
        self._keep = None
        self._layers_in_pass = set()
        self._warned_rows = False

    def meta(self, **fields):
        self.stream.write(json.dumps({"type": "meta", **fields}) + "\n")

    def begin_pass(self, tokens=None, keep=None):
        self._pass += 1
        self.passes = self._pass + 1
        self._tokens = tokens
        self._keep = keep
        self._layers_in_pass = set()

    def write_layer(self, layer, ids, weights=None):
        """ids: rows of expert ids; weights: rows of gate weights (same shape) or None."""
        if self._pass < 0 or layer in self._layers_in_pass:
            self.begin_pass()
        self._layers_in_pass.add(layer)
        keep, tokens = self._keep, self._tokens
        if keep is not None and len(keep) != len(ids):
            if not self._warned_rows:
                print(f"occult_capture: layer {layer} routed {len(ids)} rows but the pass has {len(keep)} "
                      "tokens; writing every row, without token ids", file=sys.stderr)
                self._warned_rows = True
            keep = tokens = None
        out = []
        for row, experts in enumerate(ids):
            if keep is not None and not keep[row]:
                continue
            rec = f'{{"pass":{self._pass},"token_idx":{row}'
            if tokens is not None:
                rec += f',"token":{int(tokens[row])}'
            rec += f',"layer":{layer},"topk_ids":[{",".join(str(int(e)) for e in experts)}]'
            if weights is not None:
                rec += f',"topk_weights":[{",".join(format(float(w), ".6g") for w in weights[row])}]'
            out.append(rec + "}\n")
        self.stream.write("".join(out))
        self.records[layer] = self.records.get(layer, 0) + len(out)


# ---- hooks (torch) -------------------------------------------------------------------------------

_LAYER_MODULE = re.compile(r"(?:^|\.)layers\.(\d+)\.[^.]+\.(experts|gate)$")


def find_routers(model, hook="auto"):
    """[(layer, module, kind)] for every MoE layer: kind "experts" (a forward pre-hook on the experts
    module reads its index and weight inputs) or "gate" (a forward hook reads the router's output)."""
    import torch

    found = {}
    for name, module in model.named_modules():
        m = _LAYER_MODULE.search(name)
        if m:
            found.setdefault(int(m.group(1)), {})[m.group(2)] = module
    routers = []
    for layer in sorted(found):
        experts, gate = found[layer].get("experts"), found[layer].get("gate")
        # transformers 4 kept experts as a ModuleList of MLPs, called one by one with no indices.
        fused = experts is not None and not isinstance(experts, torch.nn.ModuleList)
        if hook in ("auto", "experts") and fused:
            routers.append((layer, experts, "experts"))
        elif hook in ("auto", "gate") and gate is not None:
            routers.append((layer, gate, "gate"))
    return routers


def _tensors(*groups):
    import torch

    for g in groups:
        for v in g:
            if torch.is_tensor(v):
                yield v


def _pick_routing(tensors, experts, top_k):
    """The top-k ids (the first integer tensor of two or more dimensions) and their weights: a floating
    tensor of the same shape (the first after the ids, else the last before them), or else gathered
    from a dense [rows, experts] tensor that is zero outside each row's top-k (Qwen2-MoE's router in
    some transformers 5 versions). Logits or full probabilities are not weights: then None."""
    import torch

    tensors = list(tensors)
    at = next((i for i, t in enumerate(tensors)
               if t.dim() >= 2 and not t.is_floating_point() and t.dtype != torch.bool), None)
    if at is None:
        return None, None
    ids = tensors[at].reshape(-1, tensors[at].shape[-1])
    same = [t for t in tensors[at + 1:] + tensors[:at][::-1]
            if t.is_floating_point() and t.numel() == ids.numel() and t.shape[-1] == ids.shape[-1]]
    if same:
        return ids, same[0].reshape(ids.shape)
    for t in tensors:
        if t.is_floating_point() and t.dim() >= 2 and experts and t.shape[-1] == experts \
                and t.numel() == ids.shape[0] * experts:
            dense = t.reshape(-1, experts)
            if bool(((dense != 0).sum(dim=-1) <= (top_k or ids.shape[1])).all()):
                return ids, dense.gather(1, ids.to(torch.long))
    return ids, None


class RoutingCapture:
    """Context manager: hooks every MoE layer of `model` and writes its routing to `out` (a path or a
    text stream). `hook`: "auto" (experts inputs where the model has them, else the gate), "experts"
    or "gate"."""

    def __init__(self, model, out, hook="auto", model_name=""):
        self.model = model
        self.routers = find_routers(model, hook)
        if not self.routers:
            raise CaptureError(
                "no MoE router found: expected modules named layers.<i>.<block>.experts (transformers 5) "
                "or layers.<i>.<block>.gate (hook=" + hook + ")")
        self.experts, self.top_k = moe_shape(model.config)
        self._own = isinstance(out, str)
        self._stream = open(out, "w") if self._own else out
        self.writer = RoutingWriter(self._stream)
        self._handles = []
        self._model_name = model_name

    def __enter__(self):
        import torch
        import transformers

        self.writer.meta(tool="occult_capture", model=self._model_name,
                         model_type=getattr(self.model.config, "model_type", ""), experts=self.experts,
                         top_k=self.top_k, layers=[layer for layer, _, _ in self.routers],
                         hooks=sorted({f"{kind}:{type(m).__name__}" for _, m, kind in self.routers}),
                         transformers=transformers.__version__, torch=torch.__version__)
        self._handles.append(self.model.register_forward_pre_hook(self._on_model, with_kwargs=True))
        for layer, module, kind in self.routers:
            if kind == "experts":
                h = module.register_forward_pre_hook(self._experts_hook(layer), with_kwargs=True)
            else:
                h = module.register_forward_hook(self._gate_hook(layer))
            self._handles.append(h)
        return self

    def __exit__(self, *exc):
        for h in self._handles:
            h.remove()
        self._handles = []
        self._stream.flush()
        if self._own:
            self._stream.close()
        return False

    def _on_model(self, module, args, kwargs):
        import torch

        ids = kwargs.get("input_ids")
        if ids is None and args and torch.is_tensor(args[0]) and not args[0].is_floating_point():
            ids = args[0]
        mask = kwargs.get("attention_mask")
        if mask is None and len(args) > 1 and torch.is_tensor(args[1]):
            mask = args[1]
        tokens = keep = None
        if ids is not None and ids.dim() == 2:
            tokens = ids.reshape(-1).tolist()
            # The mask covers past tokens too (decode steps): the current ones are its last columns.
            if mask is not None and mask.dim() == 2 and mask.shape[1] >= ids.shape[1]:
                keep = (mask[:, -ids.shape[1]:] != 0).reshape(-1).tolist()
        self.writer.begin_pass(tokens, keep)

    def _write(self, layer, ids, weights, where):
        if ids is None:
            raise CaptureError(
                f"layer {layer}: found no expert indices in the {where}; this transformers version or "
                "architecture is not supported (the router may return logits only)")
        self.writer.write_layer(layer, ids.detach().cpu().tolist(),
                                None if weights is None else weights.detach().float().cpu().tolist())

    def _experts_hook(self, layer):
        def hook(module, args, kwargs):
            ids, weights = _pick_routing(_tensors(args, kwargs.values()), self.experts, self.top_k)
            self._write(layer, ids, weights, "experts module's inputs")

        return hook

    def _gate_hook(self, layer):
        def hook(module, args, output):
            outs = output if isinstance(output, (tuple, list)) else (output,)
            ids, weights = _pick_routing(_tensors(outs), self.experts, self.top_k)
            self._write(layer, ids, weights, "router's output")

        return hook


# ---- command line --------------------------------------------------------------------------------


def _load(args):
    import torch
    import transformers

    if args.tiny_random:
        import tiny_models

        model = tiny_models.build(args.tiny_random)
        if model is None:
            raise CaptureError(f"transformers {transformers.__version__} has no {args.tiny_random} model")
        return model.to(args.device).eval(), None
    dtype = "auto" if args.dtype == "auto" else getattr(torch, args.dtype)
    tok = transformers.AutoTokenizer.from_pretrained(args.model, trust_remote_code=args.trust_remote_code)
    tok.padding_side = "left"  # generation appends on the right
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    model = transformers.AutoModelForCausalLM.from_pretrained(
        args.model, dtype=dtype, trust_remote_code=args.trust_remote_code, device_map=args.device_map)
    if args.device_map is None:
        model = model.to(args.device)
    else:
        args.device = model.device  # inputs go where the embeddings are
    return model.eval(), tok


def _batches(args, model, tok):
    import torch

    if tok is None:  # random tokens for a tiny random model
        gen = torch.Generator().manual_seed(args.seed)
        vocab = model.config.get_text_config().vocab_size if hasattr(model.config, "get_text_config") \
            else model.config.vocab_size
        for _ in range(args.random_batches):
            ids = torch.randint(2, vocab, (args.batch_size, 16), generator=gen)
            yield {"input_ids": ids.to(args.device), "attention_mask": torch.ones_like(ids).to(args.device)}
        return
    with open(args.prompts) as f:
        prompts = [line.rstrip("\n") for line in f if line.strip()]
    for i in range(0, len(prompts), args.batch_size):
        enc = tok(prompts[i:i + args.batch_size], return_tensors="pt", padding=True)
        yield {k: v.to(args.device) for k, v in enc.items()}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--model", help="Hugging Face model id or local directory (loaded with its weights)")
    src.add_argument("--tiny-random", metavar="ARCH",
                     help="a tiny randomly initialised model of ARCH (olmoe, qwen2_moe, qwen3_moe, mixtral, "
                          "deepseek_v2, deepseek_v3): no weights, no network; prompts are random tokens")
    p.add_argument("--prompts", help="text file, one prompt per line (with --model)")
    p.add_argument("-o", "--output", required=True, help="JSONL routing log to write")
    p.add_argument("--max-new-tokens", type=int, default=32, help="tokens generated per prompt (default 32)")
    p.add_argument("--batch-size", type=int, default=8, help="prompts per generate() call (default 8)")
    p.add_argument("--device", default=None, help="default: cuda if available, else cpu")
    p.add_argument("--device-map", default=None,
                   help="passed to from_pretrained (e.g. auto: spread a model too big for one GPU); "
                        "overrides --device")
    p.add_argument("--dtype", default="auto", choices=["auto", "bfloat16", "float16", "float32"])
    p.add_argument("--hook", default="auto", choices=["auto", "experts", "gate"],
                   help="experts: the experts module's inputs (transformers 5); gate: the router's output; "
                        "auto: experts where available")
    p.add_argument("--trust-remote-code", action="store_true")
    p.add_argument("--seed", type=int, default=0, help="random tokens of --tiny-random")
    p.add_argument("--random-batches", type=int, default=4, help="generate() calls with --tiny-random")
    args = p.parse_args(argv)
    if args.model and not args.prompts:
        p.error("--model needs --prompts")
    import torch

    if args.device is None:
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        model, tok = _load(args)
        name = args.model or f"tiny-random-{args.tiny_random}"
        with RoutingCapture(model, args.output, hook=args.hook, model_name=name) as cap, torch.no_grad():
            for batch in _batches(args, model, tok):
                model.generate(**batch, max_new_tokens=args.max_new_tokens, min_new_tokens=args.max_new_tokens,
                               do_sample=False, pad_token_id=(tok.pad_token_id if tok else 0))
    except CaptureError as e:
        print(f"occult_capture: error: {e}", file=sys.stderr)
        return 2
    w = cap.writer
    print(f"wrote {args.output}: {w.passes} forward passes, {len(w.records)} MoE layers "
          f"({', '.join(sorted({f'{kind} of {type(m).__name__}' for _, m, kind in cap.routers}))}), "
          f"{sum(w.records.values())} records", file=sys.stderr)
    print(f"next: occult trace import {args.output} --experts {cap.experts} --top-k {cap.top_k} -o "
          f"{args.output.rsplit('.', 1)[0]}.trace", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
