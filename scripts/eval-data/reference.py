#!/usr/bin/env python3
"""The reference model beside FinAI's category suggestions in README (Predictions, Measured):
scikit-learn's TF-IDF of word 1-2-grams and character 2-4-grams (within words, sublinear term
frequency) with a logistic regression, on the same chronological 75/25 split as `finai
eval-ml` (rows sorted by date, stable). It sees only the description, as eval-ml does.

Usage: reference.py CSV DATE_COL TEXT_COL CATEGORY_COL [C]   (needs scikit-learn and pandas)
"""
import sys

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_union

path, date, text, category = sys.argv[1:5]
c = float(sys.argv[5]) if len(sys.argv) > 5 else 10.0
rows = pd.read_csv(path)
rows[date] = pd.to_datetime(rows[date], format="mixed")
rows = rows.dropna(subset=[text, category]).sort_values(date, kind="stable")
split = len(rows) * 3 // 4
train, test = rows.iloc[:split], rows.iloc[split:]
features = make_union(
    TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True),
    TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True),
)
x_train = features.fit_transform(train[text].astype(str))
x_test = features.transform(test[text].astype(str))
model = LogisticRegression(C=c, max_iter=5000).fit(x_train, train[category])
ranked = model.classes_[np.argsort(-model.predict_proba(x_test), axis=1)]
truth = test[category].to_numpy()
top1 = np.mean(ranked[:, 0] == truth)
top3 = np.mean([t in r[:3] for t, r in zip(truth, ranked)])
print(f"{path}: train {len(train)}, test {len(test)}, C={c:g}: top-1 {top1:.3f}, top-3 {top3:.3f}")
