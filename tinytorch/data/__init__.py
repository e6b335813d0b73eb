"""tinytorch.data"""
