"""One shard's local training for a Grid-X training job: softmax regression in numpy.

    gridx train train_numpy.py --input train.csv --rounds 5 --shards 4

Each round every shard job runs this script on its rows (inputs/shard, a CSV with a header,
the digit in the last column), starting from the round's global model (inputs/global/
weights.npz, absent in round 1: then from zeros, the same start on every shard). It trains
LOCAL_EPOCHS of mini-batch gradient descent and writes what the aggregate step combines:

    outputs/weights.npz    the arrays "weight" (64 x 10) and "bias" (10)
    outputs/samples.json   {"samples": <rows trained on>}, FedAvg's weight for this shard

and prints its metrics as JSON lines, which Grid-X shows per round: the training loss and the
accuracy on the held-out test split (rebuilt from scikit-learn exactly as make-data.py makes
it). Shuffling is seeded by SEED, the round and the shard, so a rerun gives the same model.
"""

import json
import os

import numpy as np

# The split of make-data.py: keep these in step with it.
SEED = 0
TEST_FRACTION = 0.25
LEARNING_RATE = 0.5
LOCAL_EPOCHS = 3
BATCH_SIZE = 32
L2 = 1e-4
PIXEL_MAX = 16.0
CLASSES = 10
GLOBAL_WEIGHTS = "inputs/global/weights.npz"


def read_csv(path):
    rows = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return rows[:, :-1] / PIXEL_MAX, rows[:, -1].astype(np.int64)


def test_split():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    _, test_x, _, test_y = train_test_split(
        digits.data,
        digits.target,
        test_size=TEST_FRACTION,
        random_state=SEED,
        stratify=digits.target,
    )
    return test_x / PIXEL_MAX, test_y


def probabilities(model, x):
    logits = x @ model["weight"] + model["bias"]
    logits -= logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True)


def loss(model, x, y):
    picked = probabilities(model, x)[np.arange(len(y)), y]
    return float(-np.log(np.maximum(picked, 1e-12)).mean())


def accuracy(model, x, y):
    return float((probabilities(model, x).argmax(axis=1) == y).mean())


def train(model, x, y, epochs, rng):
    """Mini-batch gradient descent on the cross-entropy with an L2 penalty."""
    model = {name: array.copy() for name, array in model.items()}
    onehot = np.eye(CLASSES)[y]
    for _ in range(epochs):
        order = rng.permutation(len(y))
        for start in range(0, len(y), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            error = probabilities(model, x[batch]) - onehot[batch]
            model["weight"] -= LEARNING_RATE * (
                x[batch].T @ error / len(batch) + L2 * model["weight"]
            )
            model["bias"] -= LEARNING_RATE * error.mean(axis=0)
    return model


def starting_model(features):
    if os.path.exists(GLOBAL_WEIGHTS):
        with np.load(GLOBAL_WEIGHTS, allow_pickle=False) as archive:
            return {"weight": archive["weight"], "bias": archive["bias"]}
    return {"weight": np.zeros((features, CLASSES)), "bias": np.zeros(CLASSES)}


def metric(name, value):
    print(json.dumps({"metric": name, "value": round(value, 6)}))


def main():
    round_index = int(os.environ.get("GRIDX_ROUND", "1"))
    shard = int(os.environ.get("GRIDX_SHARD", "0"))
    x, y = read_csv("inputs/shard")
    rng = np.random.default_rng([SEED, round_index, shard])
    model = train(starting_model(x.shape[1]), x, y, LOCAL_EPOCHS, rng)
    os.makedirs("outputs", exist_ok=True)
    np.savez("outputs/weights.npz", **model)
    with open("outputs/samples.json", "w", encoding="utf-8") as file:
        json.dump({"samples": len(y)}, file)
    test_x, test_y = test_split()
    print(f"round {round_index}, shard {shard}: trained on {len(y)} rows")
    metric("loss", loss(model, x, y))
    metric("accuracy", accuracy(model, test_x, test_y))


if __name__ == "__main__":
    main()
