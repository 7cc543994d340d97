"""ONNX's backend node test cases (python3-onnx 1.12) as data for the conformance script: generate
them into a folder of ours, read each case's model, inputs, expected outputs and tolerances, turn
the inputs an engine needs constant into initializers, and raise old opsets that need no change.

    python3 tests/onnx_cases.py OUT_DIR [--ops Conv,Relu,...]   # generate if needed, then a summary
"""
import argparse
import collections
import json
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import numpy_helper

STAMP = "stamp"  # written last: its presence means the generation is complete
TOLERANCES = "tolerances.json"
DEFAULT_DOMAINS = ("", "ai.onnx")

Case = collections.namedtuple("Case", [
    "name",        # folder name, test_<something>
    "model_path",  # OUT_DIR/node/<name>/model.onnx
    "ops",         # sorted distinct op types, subgraph bodies included; "domain:Op" outside ONNX's own
    "opset",       # the default domain's opset version (None when the model imports only others)
    "inputs",      # [(graph input name, value)] in graph order; value a numpy array for tensors
    "outputs",     # [(graph output name, value)] likewise
    "rtol", "atol",
    "repeated",    # True when two cases had this name: the folder holds the later one
])

# Operand positions an engine needs constant at load, by op type: weights and normalization
# parameters, and the shape-like operands (axes, shapes, pads, indices, ratios) that ONNX's later
# opsets moved from attributes to inputs. Node tests feed them as graph inputs; the conformance
# script turns them into initializers. Pow's exponent is constant only when not float: the
# non-float32 rule of constant_slots() covers it, as it covers every integer operand here.
CONSTANT_SLOTS = {
    "Conv": (1, 2), "ConvTranspose": (1, 2),
    "BatchNormalization": (1, 2, 3, 4), "LayerNormalization": (1, 2), "InstanceNormalization": (1, 2),
    "Gemm": (1, 2),
    "Clip": (1, 2),
    "Slice": (1, 2, 3, 4), "Gather": (1,), "Reshape": (1,), "Resize": (1, 2, 3), "Upsample": (1,),
    "Pad": (1, 2), "Split": (1,), "Squeeze": (1,), "Unsqueeze": (1,), "Expand": (1,), "Tile": (1,),
    "Dropout": (1, 2),
    "ReduceMean": (1,), "ReduceSum": (1,),
    "ConstantOfShape": (0,), "TopK": (1,), "OneHot": (1, 2),
}


def _numpy_aliases():
    """1.12's generators use the aliases numpy 1.24 removed (np.float in bernoulli.py, np.object in
    castlike.py): restore the ones missing, before the generators are imported."""
    for name, alias in (("float", float), ("bool", bool), ("object", object), ("int", int),
                        ("complex", complex), ("str", str)):
        if name not in np.__dict__:
            setattr(np, name, alias)


def _stamp_text():
    # Both versions: the generators draw from numpy's random state.
    return "onnx %s numpy %s\n" % (onnx.__version__, np.__version__)


def generate(out_dir):
    """Write OUT_DIR/node/<case>/ (and simple/, real/) unless a complete generation of this onnx
    version is already there; also OUT_DIR/tolerances.json, from the same collection."""
    stamp = os.path.join(out_dir, STAMP)
    if os.path.exists(stamp) and open(stamp).read() == _stamp_text():
        return
    _numpy_aliases()
    from onnx.backend.test import cmd_tools
    import onnx.backend.test.case.node as node_test

    if os.path.exists(stamp):
        os.remove(stamp)
    for kind in ("node", "simple", "real"):  # stale cases of another version would otherwise stay
        shutil.rmtree(os.path.join(out_dir, kind), ignore_errors=True)
    # output given explicitly: the default is the package's folder under /usr/lib.
    cmd_tools.generate_data(argparse.Namespace(output=out_dir, op_type=None))

    # The cases are made when their modules are imported, so this second collection is the list
    # generate_data wrote, not a new run. A repeated name's folder holds the later case: keep its
    # tolerances (1.12's loader hard-codes node tolerances; the collection is where they are set).
    tolerances, seen, repeated = {}, set(), set()
    for case in node_test.collect_testcases(None):
        if case.name in seen:
            repeated.add(case.name)
        seen.add(case.name)
        tolerances[case.name] = {"rtol": case.rtol, "atol": case.atol,
                                 "data_sets": len(case.data_sets)}
    with open(os.path.join(out_dir, TOLERANCES), "w") as f:
        json.dump({"cases": tolerances, "repeated": sorted(repeated)}, f, indent=1, sort_keys=True)
    with open(stamp, "w") as f:
        f.write(_stamp_text())


def _graphs(graph):
    """The graph and the bodies of its If/Loop/Scan nodes, recursively."""
    yield graph
    for node in graph.node:
        for attr in node.attribute:
            for g in ([attr.g] if attr.HasField("g") else []) + list(attr.graphs):
                yield from _graphs(g)


def _op_name(node):
    return node.op_type if node.domain in DEFAULT_DOMAINS else "%s:%s" % (node.domain, node.op_type)


def opset(model):
    return next((o.version for o in model.opset_import if o.domain in DEFAULT_DOMAINS), None)


# How a value of each graph type was written by generate_data, and how to read it back.
_READERS = {
    "tensor_type": (onnx.TensorProto, numpy_helper.to_array),
    "sequence_type": (onnx.SequenceProto, numpy_helper.to_list),
    "optional_type": (onnx.OptionalProto, numpy_helper.to_optional),
    "map_type": (onnx.MapProto, numpy_helper.to_dict),
}


def _read_values(folder, prefix, value_infos):
    values = []
    for j, info in enumerate(value_infos):
        proto_class, convert = _READERS[info.type.WhichOneof("value")]
        proto = proto_class()
        with open(os.path.join(folder, "%s_%d.pb" % (prefix, j)), "rb") as f:
            proto.ParseFromString(f.read())
        values.append((info.name, convert(proto)))
    return values


def cases(out_dir):
    """Yield a Case per folder of OUT_DIR/node, in name order, generating them first if needed.
    Values come from test_data_set_0 (1.12 writes one data set per node case)."""
    generate(out_dir)
    with open(os.path.join(out_dir, TOLERANCES)) as f:
        info = json.load(f)
    node_dir = os.path.join(out_dir, "node")
    for name in sorted(os.listdir(node_dir)):
        model_path = os.path.join(node_dir, name, "model.onnx")
        model = onnx.load(model_path)
        ops = sorted({_op_name(n) for g in _graphs(model.graph) for n in g.node})
        data = os.path.join(node_dir, name, "test_data_set_0")
        tol = info["cases"][name]
        yield Case(name, model_path, ops, opset(model),
                   _read_values(data, "input", model.graph.input),
                   _read_values(data, "output", model.graph.output),
                   tol["rtol"], tol["atol"], name in info["repeated"])


def constant_slots(model):
    """Names of the graph inputs an engine needs constant: those in a CONSTANT_SLOTS position of a
    top-level node, and every tensor input that is not float32 (integer shapes, indices, masks)."""
    tensors = {i.name: i.type.tensor_type.elem_type
               for i in model.graph.input if i.type.HasField("tensor_type")}
    names = {name for name, dtype in tensors.items() if dtype != onnx.TensorProto.FLOAT}
    for node in model.graph.node:
        if node.domain in DEFAULT_DOMAINS:
            names.update(node.input[k] for k in CONSTANT_SLOTS.get(node.op_type, ())
                         if k < len(node.input) and node.input[k] in tensors)
    return [i.name for i in model.graph.input if i.name in names]  # graph order


def with_constants(model, inputs, names):
    """(copy of model whose graph inputs NAMES are initializers holding their values in INPUTS,
    the (name, value) pairs of INPUTS that stay inputs)."""
    names = set(names)
    values = dict(inputs)
    out = onnx.ModelProto()
    out.CopyFrom(model)
    # IR 3 (the opset 1..8 cases) wants every initializer listed as a graph input; IR 4 does not.
    out.ir_version = max(out.ir_version, 4)
    for info in out.graph.input:
        if info.name in names:
            tensor = numpy_helper.from_array(np.asarray(values[info.name]), info.name)
            # 1.12 reads and writes bfloat16 as its uint16 bits: same bytes, fix the type tag.
            if info.type.tensor_type.elem_type == onnx.TensorProto.BFLOAT16:
                tensor.data_type = onnx.TensorProto.BFLOAT16
            out.graph.initializer.append(tensor)
    kept = [i for i in out.graph.input if i.name not in names]
    del out.graph.input[:]
    out.graph.input.extend(kept)
    return out, [(n, v) for n, v in inputs if n not in names]


def raise_opset(model, to=11):
    """A copy of MODEL importing default-domain opset TO when it imports an older one and every
    node's schema is the same at both versions (so the node means the same); else None. Lets an
    engine that starts at opset 11 run e.g. GlobalAveragePool (opset 1) and HardSigmoid (6)."""
    old = opset(model)
    if old is None or old >= to:
        return None
    for g in _graphs(model.graph):
        for node in g.node:
            if node.domain in DEFAULT_DOMAINS and onnx.defs.get_schema(node.op_type, to).since_version > old:
                return None
    out = onnx.ModelProto()
    out.CopyFrom(model)
    for o in out.opset_import:
        if o.domain in DEFAULT_DOMAINS:
            o.version = to
    # The IR version must be new enough for the new opset (opset 11 needs IR 6).
    out.ir_version = max(out.ir_version, onnx.helper.find_min_ir_version_for(list(out.opset_import)))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir")
    parser.add_argument("--ops", default="", help="comma-separated op types: count the cases using only these")
    args = parser.parse_args()
    all_cases = list(cases(args.out_dir))
    print("%d node cases in %s" % (len(all_cases), os.path.join(args.out_dir, "node")))
    hist = collections.Counter(c.opset for c in all_cases)
    print("opsets: " + ", ".join("%s: %d" % (v, hist[v]) for v in sorted(hist, key=lambda v: (v is None, v))))
    if args.ops:
        wanted = [op for op in args.ops.split(",") if op]
        only = [c for c in all_cases if set(c.ops) <= set(wanted)]
        old = [c for c in only if (c.opset or 0) < 11]
        print("cases whose ops are all in --ops: %d (%d older than opset 11, of which %d can be raised to 11)" % (
            len(only), len(old), sum(raise_opset(onnx.load(c.model_path)) is not None for c in old)))
        print("per op, cases containing it / of those, cases using only --ops:")
        for op in wanted:
            print("  %s %d/%d" % (op, sum(op in c.ops for c in all_cases), sum(op in c.ops for c in only)))


if __name__ == "__main__":
    sys.exit(main())
