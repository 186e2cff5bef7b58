#!/usr/bin/env python3
"""Tests of the routing capture (occult_capture.py) and of its import by `occult trace import`.

    python3 tools/capture/test_capture.py --occult build/sim/cli/occult

The writer tests need only Python. The model tests build a tiny random model of each architecture from a
config (no weights, no network), run prompts through it under the capture, import the log and check the
counts; they need torch and transformers and are skipped, each with the reason, where those are missing
(CI) or where the installed transformers lacks an architecture.
"""

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import occult_capture  # noqa: E402
import tiny_models  # noqa: E402

OCCULT = os.environ.get("OCCULT_BIN", "occult")

try:
    import torch
    import transformers

    HAVE_TORCH = True
except ImportError as e:  # CI and the development machines: no torch
    HAVE_TORCH = False
    WHY_NO_TORCH = str(e)


def occult_import(log, experts, top_k, *extra):
    """Runs `occult trace import --json` on `log`; returns its report."""
    with tempfile.TemporaryDirectory() as d:
        cmd = [OCCULT, "trace", "import", log, "--experts", str(experts), "--top-k", str(top_k),
               "-o", os.path.join(d, "t.trace"), "--json", *extra]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} failed ({res.returncode}): {res.stderr}")
        return json.loads(res.stdout)


def read_records(path):
    with open(path) as f:
        return [r for r in map(json.loads, f) if r.get("type") is None]


def passes_of(records, layer):
    """[(pass, [expert set of each record])] of `layer`, in pass order."""
    sets = {}
    for r in records:
        if r["layer"] == layer:
            sets.setdefault(r["pass"], []).append(frozenset(r["topk_ids"]))
    return sorted(sets.items())


def dummy_blocks(records, layer, min_records=32):
    """Record counts of the blocks the importer should drop, by the rule of docs/traces.md written
    again independently: consecutive passes whose records all pick one set, the same set, at least
    min_records records in all."""
    blocks, open_set, open_records = [], None, 0
    for _, sets in passes_of(records, layer) + [(None, [])]:  # a sentinel closes the last block
        uniform = len(set(sets)) == 1
        if uniform and open_set == sets[0]:
            open_records += len(sets)
            continue
        if open_set is not None and open_records >= min_records:
            blocks.append(open_records)
        open_set, open_records = (sets[0], len(sets)) if uniform else (None, 0)
    return blocks


class WriterTests(unittest.TestCase):
    """The JSONL side, without torch: what the hooks hand to RoutingWriter comes out as records the
    importer counts right, padding left out, dummy passes dropped."""

    def test_records_padding_and_passes(self):
        out = io.StringIO()
        w = occult_capture.RoutingWriter(out)
        w.meta(tool="test")
        w.begin_pass(tokens=[5, 6, 7, 8], keep=[False, True, True, True])  # one left-padded row
        w.write_layer(1, [[0, 1], [2, 3], [4, 5], [1, 2]], [[0.5, 0.25]] * 4)
        w.write_layer(2, [[0, 1], [2, 3], [4, 5], [1, 2]], None)
        w.write_layer(1, [[3, 4]] * 4)  # layer 1 again without begin_pass: a new pass
        lines = out.getvalue().splitlines()
        self.assertEqual(json.loads(lines[0])["type"], "meta")
        recs = [json.loads(line) for line in lines[1:]]
        self.assertEqual(len(recs), 3 + 3 + 4)
        self.assertEqual(recs[0], {"pass": 0, "token_idx": 1, "token": 6, "layer": 1, "topk_ids": [2, 3],
                                   "topk_weights": [0.5, 0.25]})
        self.assertNotIn("topk_weights", recs[3])
        self.assertEqual((recs[6]["pass"], recs[6]["token_idx"]), (1, 0))
        self.assertNotIn("token", recs[6])
        self.assertEqual(w.records, {1: 7, 2: 3})
        self.assertEqual(w.passes, 2)

    def test_import_counts_and_drops_a_dummy_pass_in_the_middle(self):
        with tempfile.TemporaryDirectory() as d:
            log = os.path.join(d, "r.jsonl")
            with open(log, "w") as f:
                w = occult_capture.RoutingWriter(f)
                for p in range(5):
                    w.begin_pass()
                    dummy = p in (0, 3)  # warm-up, and a restart in the middle
                    for layer in (0, 1):
                        rows = 40 if dummy else 10
                        ids = [[6, 7]] * rows if dummy else [[r % 6, (r + 1 + p) % 6] for r in range(rows)]
                        w.write_layer(layer, ids, [[0.6, 0.4]] * rows)
            rep = occult_import(log, 8, 2)
            self.assertEqual(rep["records_read"], 2 * (3 * 10 + 2 * 40))
            self.assertEqual(rep["records_kept"], 2 * 3 * 10)
            blocks = rep["degenerate_runs"]
            self.assertEqual([(b["layer"], b["first_record"], b["records"], b["passes"]) for b in blocks],
                             [(0, 0, 40, 1), (0, 60, 40, 1), (1, 0, 40, 1), (1, 60, 40, 1)])
            kept = occult_import(log, 8, 2, "--keep-degenerate")
            self.assertEqual(kept["records_kept"], kept["records_read"])


@unittest.skipUnless(HAVE_TORCH, "torch/transformers not installed" if not HAVE_TORCH else "")
class TinyModelTests(unittest.TestCase):
    """Each architecture, tiny and random: the capture writes one record per real token, MoE layer and
    forward pass; the importer reads them all and drops exactly the dummy pass."""

    BATCH, PROMPT, NEW = 3, 12, 4  # generate(): 1 prefill pass + (NEW - 1) decode passes

    def run_model(self, model, log, hook):
        vocab = model.config.vocab_size
        gen = torch.Generator().manual_seed(1)
        expected = 0
        with occult_capture.RoutingCapture(model, log, hook=hook) as cap, torch.no_grad():
            # A plain forward pass of random tokens.
            ids = torch.randint(2, vocab, (2, 9), generator=gen)
            model(input_ids=ids)
            expected += ids.numel()
            # A dummy pass as serving engines run it (one token id everywhere): every token routes alike.
            model(input_ids=torch.zeros((1, 48), dtype=torch.long))
            expected += 48
            # generate() on left-padded prompts: padding is not routing, and is not written.
            ids = torch.randint(2, vocab, (self.BATCH, self.PROMPT), generator=gen)
            mask = torch.ones_like(ids)
            mask[0, :5] = 0
            mask[1, :2] = 0
            ids[mask == 0] = 0
            out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=self.NEW,
                                 min_new_tokens=self.NEW, do_sample=False, pad_token_id=0)
            self.assertEqual(out.shape[1], self.PROMPT + self.NEW)
            expected += int(mask.sum()) + self.BATCH * (self.NEW - 1)
        return cap, expected

    def check_arch(self, arch):
        why = tiny_models.missing(arch)
        if why:
            self.skipTest(why)
        model = tiny_models.build(arch)
        with tempfile.TemporaryDirectory() as d:
            log = os.path.join(d, f"{arch}.jsonl")
            cap, expected = self.run_model(model, log, "auto")
            layers = tiny_models.moe_layers(arch)
            self.assertEqual([layer for layer, _, _ in cap.routers], layers)
            kinds = {kind for _, _, kind in cap.routers}
            self.assertEqual(cap.writer.passes, 2 + self.NEW)
            self.assertEqual(cap.writer.records, {layer: expected for layer in layers})

            rep = occult_import(log, cap.experts, cap.top_k)
            self.assertEqual(rep["layers"], len(layers))
            self.assertEqual(rep["records_read"], expected * len(layers))
            # The dummy pass routes every token alike in every layer; what the importer drops must match
            # the rule applied to the log directly (a real pass is uniform only by accident).
            records = read_records(log)
            for layer in layers:
                dummy = dict(passes_of(records, layer))[1]
                self.assertEqual(len(set(dummy)), 1, f"layer {layer}: the all-zeros pass was not uniform")
            expect_blocks = [(layer, n) for layer in layers for n in dummy_blocks(records, layer)]
            self.assertIn((layers[0], 48), expect_blocks)
            self.assertEqual([(b["layer"], b["records"]) for b in rep["degenerate_runs"]], expect_blocks)
            self.assertEqual(rep["records_kept"], rep["records_read"] - sum(n for _, n in expect_blocks))

            weights = [sum(r["topk_weights"]) for r in records]
            self.assertTrue(all(w > 0 for w in weights))
            print(f"\n  {arch}: hooks {sorted(kinds)} on {type(cap.routers[0][1]).__name__}, E={cap.experts} "
                  f"k={cap.top_k}, {len(layers)} MoE layers, {expected} records each; top-k weight sum "
                  f"{min(weights):.3f}..{max(weights):.3f}", file=sys.stderr)

            # Where the router itself returns the indices (Mixtral, Qwen, OLMoE), its output must name the
            # same experts with the same weights as the experts module's inputs.
            gate_log = os.path.join(d, f"{arch}_gate.jsonl")
            try:
                gate_cap, _ = self.run_model(model, gate_log, "gate")
                if not gate_cap.writer.records:
                    raise occult_capture.CaptureError("the block never calls its gate module")
            except occult_capture.CaptureError as e:
                print(f"  {arch}: gate hook not usable ({e})", file=sys.stderr)
                return
            if kinds == {"experts"}:
                a, b = read_records(log), read_records(gate_log)
                self.assertEqual(len(a), len(b))
                for x, y in zip(a, b):
                    self.assertEqual(sorted(x["topk_ids"]), sorted(y["topk_ids"]))
                    wx = dict(zip(x["topk_ids"], x["topk_weights"]))
                    wy = dict(zip(y["topk_ids"], y["topk_weights"]))
                    for e in wx:
                        self.assertAlmostEqual(wx[e], wy[e], places=4)

    def test_olmoe(self):
        self.check_arch("olmoe")

    def test_qwen2_moe(self):  # Qwen1.5-MoE and Qwen2-MoE
        self.check_arch("qwen2_moe")

    def test_qwen3_moe(self):
        self.check_arch("qwen3_moe")

    def test_mixtral(self):
        self.check_arch("mixtral")

    def test_deepseek_v2(self):
        self.check_arch("deepseek_v2")

    def test_deepseek_v3(self):
        self.check_arch("deepseek_v3")

    def test_command_line_on_a_tiny_model(self):
        if tiny_models.missing("mixtral"):
            self.skipTest(tiny_models.missing("mixtral"))
        with tempfile.TemporaryDirectory() as d:
            log = os.path.join(d, "cli.jsonl")
            rc = occult_capture.main(["--tiny-random", "mixtral", "-o", log, "--device", "cpu", "--batch-size", "2",
                                      "--random-batches", "2", "--max-new-tokens", "3"])
            self.assertEqual(rc, 0)
            rep = occult_import(log, 6, 2)
            # Per layer, per generate() call: 2 x 16 prompt tokens, then 2 decode steps of 2 tokens.
            self.assertEqual(rep["records_read"], 2 * 2 * (2 * 16 + 2 * 2))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--occult", default=OCCULT, help="the occult binary (default: $OCCULT_BIN or occult)")
    args, rest = ap.parse_known_args()
    OCCULT = os.path.abspath(args.occult) if os.sep in args.occult else args.occult
    if not HAVE_TORCH:
        print(f"note: model tests skipped: {WHY_NO_TORCH}", file=sys.stderr)
    else:
        print(f"torch {torch.__version__}, transformers {transformers.__version__}", file=sys.stderr)
    unittest.main(argv=[sys.argv[0], "-v", *rest])
