// The umbrella module: `import SwiftNFN` brings in the whole framework.
@_exported import LinearAlgebra
@_exported import Tensors
@_exported import TensorIO
@_exported import Autograd
@_exported import NeuralNetworks
@_exported import WeightSpace
@_exported import Metanetworks
@_exported import Datasets
@_exported import Training
@_exported import TreeEnsembles
@_exported import Experiments
@_exported import Zoo
