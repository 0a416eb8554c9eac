declare module "skmeans" {
  interface Result {
    it: number;
    k: number;
    idxs: number[];
    centroids: number[][];
  }
  export default function skmeans(data: number[][], k: number, centroids?: number[][] | string | null, iterations?: number): Result;
}
