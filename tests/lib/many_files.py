# many_files.py ROOT N: N small unique files ("file K\n"), 500 to a folder
# d0000, d0001 ... under ROOT, made by one process (fast for 10^5-10^6 files).
# Used by tests/integration/vault_scaled.sh and bench/cases/million.sh.
import os
import sys

root, n = sys.argv[1], int(sys.argv[2])
for d in range(n // 500):
    dd = os.path.join(root, "d%04d" % d)
    os.makedirs(dd)
    for i in range(500):
        with open(os.path.join(dd, "f%07d" % (d * 500 + i)), "w") as f:
            f.write("file %d\n" % (d * 500 + i))
