"""The accuracy of a trained model on the held-out digits, as a Grid-X job.

    gridx get TRAIN -o model/
    gridx submit evaluate.py --input model/weights.npz --input test.csv --follow

Reads the model, weights.npz (from train_numpy.py or central.py) or weights.pt (from
train_torch.py; on the python-torch runtime), from inputs/ or from inputs/global/ (where a
round's shards get it), and the test rows from inputs/test.csv (make-data.py's). A .npz is
a softmax regression ("weight", "bias"); a .pt is a stack of linear layers with ReLU between
them, as train_torch.py builds, run here in numpy. Prints the accuracy as a JSON metric line
and writes it to outputs/evaluation.json.
"""

import json
import os
import sys

import numpy as np

PIXEL_MAX = 16.0
MODEL_DIRS = ("inputs", "inputs/global")
TEST_CSV = "inputs/test.csv"


def softmax_regression(path):
    with np.load(path, allow_pickle=False) as archive:
        weight, bias = archive["weight"], archive["bias"]
    return lambda x: x @ weight + bias


def linear_stack(path):
    import torch

    state = torch.load(path, map_location="cpu", weights_only=True)
    layers = sorted({name.rsplit(".", 1)[0] for name in state}, key=lambda name: int(name))
    params = [(state[f"{name}.weight"].numpy(), state[f"{name}.bias"].numpy()) for name in layers]

    def forward(x):
        for index, (weight, bias) in enumerate(params):
            x = x @ weight.T + bias
            if index < len(params) - 1:
                x = np.maximum(x, 0)
        return x

    return forward


def load_model():
    for directory in MODEL_DIRS:
        for name, loader in (("weights.npz", softmax_regression), ("weights.pt", linear_stack)):
            path = os.path.join(directory, name)
            if os.path.isfile(path):
                return name, loader(path)
    sys.exit("no model: add --input model/weights.npz (or weights.pt), from gridx get TRAIN")


def main():
    name, predict = load_model()
    rows = np.loadtxt(TEST_CSV, delimiter=",", skiprows=1, ndmin=2)
    x, y = rows[:, :-1] / PIXEL_MAX, rows[:, -1].astype(np.int64)
    accuracy = float((predict(x).argmax(axis=1) == y).mean())
    os.makedirs("outputs", exist_ok=True)
    with open("outputs/evaluation.json", "w", encoding="utf-8") as file:
        json.dump({"model": name, "rows": len(y), "accuracy": accuracy}, file)
    print(json.dumps({"metric": "accuracy", "value": round(accuracy, 6)}))


if __name__ == "__main__":
    main()
