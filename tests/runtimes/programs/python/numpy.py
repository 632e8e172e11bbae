import numpy as np

a = np.arange(1, 101, dtype=np.int64)
print(int(a.sum()), round(float(np.linalg.det(np.array([[2.0, 1.0], [1.0, 3.0]]))), 6))
