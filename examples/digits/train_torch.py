"""One shard's local training for a Grid-X training job: a small PyTorch MLP.

    gridx train train_torch.py --input train.csv --rounds 3 --shards 4 --runtime python-torch

The torch counterpart of train_numpy.py, for the python-torch runtime: 64 pixels, a hidden
layer of HIDDEN units with ReLU, 10 digits. Each round it starts from the global state_dict
(inputs/global/weights.pt, absent in round 1: then from the initial weights torch.manual_seed
(SEED) gives, the same on every shard), trains LOCAL_EPOCHS of SGD with momentum on its rows
(inputs/shard) and writes:

    outputs/weights.pt     the model's state_dict, which the aggregate step averages
    outputs/samples.json   {"samples": <rows trained on>}

then prints the training loss and the accuracy on the held-out test split as JSON lines.
"""

import json
import os

import numpy as np
import torch

# The split of make-data.py: keep these in step with it.
SEED = 0
TEST_FRACTION = 0.25
HIDDEN = 32
LEARNING_RATE = 0.1
MOMENTUM = 0.9
LOCAL_EPOCHS = 5
BATCH_SIZE = 32
PIXEL_MAX = 16.0
CLASSES = 10
GLOBAL_WEIGHTS = "inputs/global/weights.pt"


def read_csv(path):
    rows = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    x = torch.tensor(rows[:, :-1] / PIXEL_MAX, dtype=torch.float32)
    return x, torch.tensor(rows[:, -1], dtype=torch.int64)


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
    return torch.tensor(test_x / PIXEL_MAX, dtype=torch.float32), torch.tensor(test_y)


def build_model(features):
    torch.manual_seed(SEED)
    model = torch.nn.Sequential(
        torch.nn.Linear(features, HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, CLASSES)
    )
    if os.path.exists(GLOBAL_WEIGHTS):
        # weights_only: the global model is tensors; nothing else is unpickled.
        model.load_state_dict(torch.load(GLOBAL_WEIGHTS, map_location="cpu", weights_only=True))
    return model


def train(model, x, y, epochs, generator):
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(y), generator=generator)
        for start in range(0, len(y), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x[batch]), y[batch]).backward()
            optimizer.step()


def metric(name, value):
    print(json.dumps({"metric": name, "value": round(value, 6)}))


def main():
    # One thread: a job gets one CPU unless it asks for more, and more threads than CPUs
    # only contend for it.
    torch.set_num_threads(1)
    round_index = int(os.environ.get("GRIDX_ROUND", "1"))
    shard = int(os.environ.get("GRIDX_SHARD", "0"))
    x, y = read_csv("inputs/shard")
    model = build_model(x.shape[1])
    generator = torch.Generator().manual_seed(SEED * 1_000_003 + round_index * 1_000 + shard)
    train(model, x, y, LOCAL_EPOCHS, generator)
    os.makedirs("outputs", exist_ok=True)
    torch.save(model.state_dict(), "outputs/weights.pt")
    with open("outputs/samples.json", "w", encoding="utf-8") as file:
        json.dump({"samples": len(y)}, file)
    model.eval()
    test_x, test_y = test_split()
    with torch.no_grad():
        loss = torch.nn.functional.cross_entropy(model(x), y).item()
        accuracy = (model(test_x).argmax(dim=1) == test_y).float().mean().item()
    print(f"round {round_index}, shard {shard}: trained on {len(y)} rows")
    metric("loss", loss)
    metric("accuracy", accuracy)


if __name__ == "__main__":
    main()
