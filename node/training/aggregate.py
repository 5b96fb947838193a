"""The aggregate step of a Grid-X training round, run as a job inside the sandbox.

The daemon never opens a file a job wrote (a torch .pt is a pickle: loading one on the host
is code execution), so the shards' weights are combined here, in a container, on the train
job's runtime. See the training contract (issue 10) for the layout:

  inputs/<shard>/weights.npz | weights.pt   numpy arrays by name, or a torch state_dict
  inputs/<shard>/samples.json               {"samples": <int>}
  outputs/global/weights.npz | weights.pt   same format and array names as the inputs
  outputs/aggregate.json                    {"rule", "round", "shards", "samples"}
  outputs/metrics.json                      {"round", "metrics": {name: value}}, when given

Environment: GRIDX_AGGREGATE (fedavg, median or trimmed-mean; fedavg when unset),
GRIDX_TRIM_FRACTION (0.2 when unset), GRIDX_ROUND, GRIDX_ROUND_METRICS (the round's metrics
as the daemon's view has them, a JSON object of name to number: kept as this round's
artifact beside its model).

Rules, per array and per coordinate, over the k shards that made the round:
  fedavg        sum_i(n_i * w_i) / sum_i(n_i), n_i the shard's samples (Flower's FedAvg)
  median        the coordinate-wise median
  trimmed-mean  drop the floor(trim * k) lowest and highest values, mean the rest

Anything this script cannot combine faithfully (no shards, names, shapes or dtypes that
differ, two formats, a missing or bad samples.json, values that are not finite numbers) is
refused with a sentence on stderr and exit code 2, so the round fails visibly instead of
producing a model nobody asked for.
"""

import io
import json
import math
import os
import re
import sys
import zipfile

import numpy as np

INPUTS_DIR = "inputs"
OUTPUTS_DIR = "outputs"
RULES = ("fedavg", "median", "trimmed-mean")
FORMATS = {"weights.npz": "npz", "weights.pt": "pt"}
DEFAULT_TRIM_FRACTION = 0.2
# The exit code of a refusal: the inputs are wrong, not this script.
EXIT_REFUSED = 2


class Refusal(Exception):
    """Inputs this script will not combine; the message says why, for the user."""


def read_environment():
    rule = os.environ.get("GRIDX_AGGREGATE", "fedavg") or "fedavg"
    if rule not in RULES:
        raise Refusal(f"GRIDX_AGGREGATE={rule!r} is not one of {', '.join(RULES)}")
    trim_text = os.environ.get("GRIDX_TRIM_FRACTION", "") or str(DEFAULT_TRIM_FRACTION)
    try:
        trim = float(trim_text)
    except ValueError:
        raise Refusal(f"GRIDX_TRIM_FRACTION={trim_text!r} is not a number") from None
    # At 0.5 or more a trimmed mean would drop every value of an even number of shards.
    if not 0 <= trim < 0.5:
        raise Refusal(f"GRIDX_TRIM_FRACTION={trim_text} is outside [0, 0.5)")
    round_text = os.environ.get("GRIDX_ROUND", "")
    if round_text == "":
        round_index = None
    elif re.fullmatch(r"[1-9][0-9]*", round_text):
        round_index = int(round_text)
    else:
        raise Refusal(f"GRIDX_ROUND={round_text!r} is not a round number (1, 2, ...)")
    return rule, trim, round_index


def read_round_metrics():
    text = os.environ.get("GRIDX_ROUND_METRICS", "")
    if text == "":
        return None
    try:
        metrics = json.loads(text)
    except ValueError:
        raise Refusal("GRIDX_ROUND_METRICS is not JSON") from None
    if not isinstance(metrics, dict) or not all(
        isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        for value in metrics.values()
    ):
        raise Refusal("GRIDX_ROUND_METRICS is not an object of metric names to numbers")
    return metrics


def read_samples(shard, path):
    try:
        with open(path, encoding="utf-8") as file:
            document = json.load(file)
    except FileNotFoundError:
        raise Refusal(f"shard {shard} has no samples.json") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise Refusal(f"shard {shard}'s samples.json is not JSON: {error}") from None
    samples = document.get("samples") if isinstance(document, dict) else None
    # bool is an int in Python; true samples are not a count.
    if not isinstance(samples, int) or isinstance(samples, bool) or samples < 1:
        raise Refusal(
            f'shard {shard}\'s samples.json must be {{"samples": <integer >= 1>}}, '
            f"not {json.dumps(document)[:200]}"
        )
    return samples


def find_shards(inputs_dir):
    """Returns [(shard index, weights path, samples)] sorted by index, and the format."""
    if not os.path.isdir(inputs_dir):
        raise Refusal("no shard inputs: there is no inputs/ directory")
    shards, formats = [], set()
    for entry in sorted(os.listdir(inputs_dir)):
        path = os.path.join(inputs_dir, entry)
        if not (os.path.isdir(path) and re.fullmatch(r"0|[1-9][0-9]*", entry)):
            raise Refusal(f"inputs/{entry} is not a shard directory (inputs/<shard index>/)")
        found = [name for name in FORMATS if os.path.isfile(os.path.join(path, name))]
        if len(found) != 1:
            what = "both weights.npz and weights.pt" if found else "no weights.npz or weights.pt"
            raise Refusal(f"shard {entry} has {what}")
        formats.add(FORMATS[found[0]])
        samples = read_samples(entry, os.path.join(path, "samples.json"))
        shards.append((int(entry), os.path.join(path, found[0]), samples))
    if not shards:
        raise Refusal("no shard inputs: inputs/ holds no inputs/<shard>/weights.* files")
    if len(formats) > 1:
        raise Refusal("the shards mix weights.npz and weights.pt; a round must use one format")
    shards.sort(key=lambda shard: shard[0])
    return shards, formats.pop()


def load_npz(path):
    # allow_pickle=False: an object array inside an .npz is a pickle, and it is refused.
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except ValueError as error:
        raise Refusal(f"{path} is not an .npz of plain arrays: {error}") from None


def save_npz(path, arrays):
    # Not np.savez(path, **arrays): an array named "file" would collide with its argument.
    # Stored, not deflated, as np.savez does, so any zip reader gets the .npy bytes as they are.
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, array, allow_pickle=False)
            archive.writestr(f"{name}.npy", buffer.getvalue())


def load_pt(path):
    try:
        import torch
    except ImportError:
        raise Refusal("weights.pt needs torch: run training on the python-torch runtime") from None
    # weights_only: tensors and plain containers only, no arbitrary pickled objects.
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many kinds for a file it cannot read
        raise Refusal(f"{path} is not a torch state_dict of tensors: {error}") from None
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise Refusal(f"{path} is not a state_dict: a mapping from names to tensors")
    return {str(name): tensor.detach().cpu().numpy() for name, tensor in state.items()}


def save_pt(path, arrays):
    import collections

    import torch

    state = collections.OrderedDict(
        (name, torch.from_numpy(np.ascontiguousarray(array))) for name, array in arrays.items()
    )
    torch.save(state, path)


def check_alike(shards_arrays, shard_indices):
    """Every shard must carry the same names, shapes and dtypes as the first."""
    first, first_index = shards_arrays[0], shard_indices[0]
    for arrays, index in zip(shards_arrays, shard_indices):
        if set(arrays) != set(first):
            extra = sorted(set(arrays) ^ set(first))
            raise Refusal(
                f"shard {index}'s array names differ from shard {first_index}'s: "
                f"{', '.join(extra[:10])} in one and not the other"
            )
        for name, array in arrays.items():
            reference = first[name]
            if array.shape != reference.shape:
                raise Refusal(
                    f"array {name!r} has shape {array.shape} in shard {index} "
                    f"but {reference.shape} in shard {first_index}"
                )
            if array.dtype != reference.dtype:
                raise Refusal(
                    f"array {name!r} is {array.dtype} in shard {index} "
                    f"but {reference.dtype} in shard {first_index}"
                )
            if array.dtype.kind not in "biuf":
                raise Refusal(f"array {name!r} is {array.dtype}, not a real number type")
            if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
                raise Refusal(f"array {name!r} of shard {index} holds NaN or infinite values")


def combine(stack, rule, trim, samples):
    """One array's aggregate over its shards (axis 0 of stack, in float64)."""
    if rule == "fedavg":
        weights = np.asarray(samples, dtype=np.float64)
        return np.tensordot(weights, stack, axes=1) / weights.sum()
    if rule == "median":
        return np.median(stack, axis=0)
    cut = math.floor(trim * stack.shape[0])
    ordered = np.sort(stack, axis=0)
    return ordered[cut : stack.shape[0] - cut].mean(axis=0)


def as_dtype(values, dtype):
    """Back to the inputs' dtype; integer arrays (counters) are rounded, not truncated."""
    if dtype.kind in "biu":
        values = np.rint(values)
    return values.astype(dtype)


def aggregate(shards_arrays, samples, rule, trim):
    first = shards_arrays[0]
    result = {}
    for name, reference in first.items():
        stack = np.stack([arrays[name] for arrays in shards_arrays]).astype(np.float64)
        result[name] = as_dtype(combine(stack, rule, trim, samples), reference.dtype)
    return result


def main():
    rule, trim, round_index = read_environment()
    metrics = read_round_metrics()
    shards, weights_format = find_shards(INPUTS_DIR)
    indices = [index for index, _, _ in shards]
    samples = [count for _, _, count in shards]
    load = load_npz if weights_format == "npz" else load_pt
    shards_arrays = [load(path) for _, path, _ in shards]
    check_alike(shards_arrays, indices)
    result = aggregate(shards_arrays, samples, rule, trim)
    global_dir = os.path.join(OUTPUTS_DIR, "global")
    os.makedirs(global_dir, exist_ok=True)
    save = save_npz if weights_format == "npz" else save_pt
    save(os.path.join(global_dir, f"weights.{weights_format}"), result)
    summary = {"rule": rule, "round": round_index, "shards": indices, "samples": sum(samples)}
    with open(os.path.join(OUTPUTS_DIR, "aggregate.json"), "w", encoding="utf-8") as file:
        json.dump(summary, file)
    if metrics is not None:
        with open(os.path.join(OUTPUTS_DIR, "metrics.json"), "w", encoding="utf-8") as file:
            json.dump({"round": round_index, "metrics": metrics}, file)
    print(json.dumps(summary))


if __name__ == "__main__":
    try:
        main()
    except Refusal as refusal:
        print(f"aggregate: {refusal}", file=sys.stderr)
        sys.exit(EXIT_REFUSED)
