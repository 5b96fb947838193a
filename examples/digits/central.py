"""The same softmax regression as train_numpy.py, trained centrally on all of train.csv.

    gridx submit central.py --input train.csv --input train_numpy.py --follow

The baseline a federated run is compared with: one job, every training row, as many epochs
as the federated run gives each shard in all (GRIDX_ROUNDS rounds, 5 unless set, times
train_numpy.py's LOCAL_EPOCHS). The model, its training and its metrics are train_numpy.py's
own, loaded from the job's inputs, so the two cannot drift apart. Writes outputs/weights.npz
and prints the loss and the accuracy on the held-out test split as JSON lines.
"""

import importlib.util
import os
import sys

import numpy as np

MODEL_SCRIPT = "inputs/train_numpy.py"
DEFAULT_ROUNDS = 5


def load_model_script():
    if not os.path.isfile(MODEL_SCRIPT):
        sys.exit("central.py needs train_numpy.py as an input: add --input train_numpy.py")
    spec = importlib.util.spec_from_file_location("train_numpy", MODEL_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    model_script = load_model_script()
    rounds = int(os.environ.get("GRIDX_ROUNDS", str(DEFAULT_ROUNDS)))
    epochs = rounds * model_script.LOCAL_EPOCHS
    x, y = model_script.read_csv("inputs/train.csv")
    classes = model_script.CLASSES
    start = {"weight": np.zeros((x.shape[1], classes)), "bias": np.zeros(classes)}
    rng = np.random.default_rng([model_script.SEED, 0, 0])
    model = model_script.train(start, x, y, epochs, rng)
    os.makedirs("outputs", exist_ok=True)
    np.savez("outputs/weights.npz", **model)
    test_x, test_y = model_script.test_split()
    print(f"central: {epochs} epochs on {len(y)} rows")
    model_script.metric("loss", model_script.loss(model, x, y))
    model_script.metric("accuracy", model_script.accuracy(model, test_x, test_y))


if __name__ == "__main__":
    main()
