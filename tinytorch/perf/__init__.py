"""tinytorch.perf"""
