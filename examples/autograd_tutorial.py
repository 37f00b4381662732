"""The PyTorch autograd tutorial ("Autograd: automatic differentiation"), run on the
reference engine. Only the import differs from the tutorial: replace the next line
with ``import torch`` and it runs on PyTorch, printing the same text (random values
aside; tests/test_tutorial.py feeds both the same random inputs and compares).
"""

import reference as torch

torch.manual_seed(0)

# Tensor: requires_grad=True records every operation on x
x = torch.ones(2, 2, requires_grad=True)
print(x)

y = x + 2
print(y)
print(y.grad_fn)

z = y * y * 3
out = z.mean()
print(z, out)

# requires_grad_() changes the flag in place; it is False by default
a = torch.randn(2, 2)
a = (a * 3) / (a - 1)
print(a.requires_grad)
a.requires_grad_(True)
print(a.requires_grad)
b = (a * a).sum()
print(b.grad_fn)

# Gradients: out is a scalar, so out.backward() is out.backward(torch.tensor(1.))
out.backward()
print(x.grad)

# A vector-Jacobian product: keep doubling until the norm passes 1000
x = torch.randn(3, requires_grad=True)
y = x * 2
while y.data.norm() < 1000:
    y = y * 2
print(y)

v = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float)
y.backward(v)
print(x.grad)

# no_grad stops recording
print(x.requires_grad)
print((x**2).requires_grad)
with torch.no_grad():
    print((x**2).requires_grad)

# detach: same content, no history
print(x.requires_grad)
y = x.detach()
print(y.requires_grad)
print(x.eq(y).all())
