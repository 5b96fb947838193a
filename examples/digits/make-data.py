"""Writes the digits data set as outputs/train.csv and outputs/test.csv.

A Grid-X job on the python runtime: scikit-learn ships the 8x8 digits images (1,797 of them)
inside its Debian package, so nothing is downloaded. Each row is 64 pixel values (0 to 16)
and, in the last column, the digit. The split is fixed by SEED and stratified by digit, so
every run writes the same files, and train_numpy.py, train_torch.py and central.py can
rebuild the same held-out test split on their own.

    gridx submit make-data.py --follow && gridx get JOB -o data/
"""

import os

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

# The training scripts rebuild the test split with these same values: keep them in step.
SEED = 0
TEST_FRACTION = 0.25


def digits_split():
    digits = load_digits()
    return train_test_split(
        digits.data,
        digits.target,
        test_size=TEST_FRACTION,
        random_state=SEED,
        stratify=digits.target,
    )


def write_csv(path, features, labels):
    header = ",".join([f"p{index}" for index in range(features.shape[1])] + ["label"])
    rows = np.column_stack([features, labels]).astype(np.int64)
    np.savetxt(path, rows, fmt="%d", delimiter=",", header=header, comments="")


def main():
    train_x, test_x, train_y, test_y = digits_split()
    os.makedirs("outputs", exist_ok=True)
    write_csv("outputs/train.csv", train_x, train_y)
    write_csv("outputs/test.csv", test_x, test_y)
    print(f"wrote {len(train_y)} training rows and {len(test_y)} test rows")


if __name__ == "__main__":
    main()
