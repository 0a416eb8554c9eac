/** Neighbour search: a KD-tree and brute force, radius and k-nearest queries (see neighbor-index.ts). */
export { buildKDTree, minDistToNode, treeLevels, type KDTree, type KDTreeOptions, type NeighborAlgorithm, type NeighborMetric } from "./kdtree.js";
export { autoAlgorithm, NeighborIndex, type IndexBuffer, type NeighborIndexOptions, type SearchOptions } from "./neighbor-index.js";
export { neighborsKernels } from "./kernels.js";
