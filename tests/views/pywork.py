# SPDX-License-Identifier: MIT
"""pywork.py - some dict, list and json work for python3, run with
PYTHONMALLOC=malloc so that every object allocation goes through malloc:
a trace with about 12,000 distinct allocation stacks, to check that the
HTML report of a large program stays small and draws (check_views.c)."""
import json, collections
data = []
for i in range(3000):
    d = {"id": i, "name": "item%d" % i, "tags": [str(j) for j in range(i % 17)], "nested": {"a": [i] * (i % 5)}}
    data.append(d)
s = json.dumps(data)
back = json.loads(s)
c = collections.Counter(t for d in back for t in d["tags"])
words = {}
for k in range(20000):
    words.setdefault("k%d" % (k % 5000), []).append(k)
print(len(s), len(c), len(words))
