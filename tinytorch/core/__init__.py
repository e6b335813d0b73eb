"""tinytorch.core"""
