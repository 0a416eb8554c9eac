/**
 * The Barnes–Hut quadtree of a 2-D embedding, in preallocated typed arrays (no object per
 * cell), rebuilt every iteration into the same buffers. The construction follows
 * scikit-learn's _QuadTree, so the cells (bounds, barycenters, counts) are the same:
 *
 * - the root's box is [min, M′] per axis with M′ = max(M·(1 + 1e-3·sign M), M + 1e-3);
 * - points are inserted in row order; an empty root takes the point; an inner cell updates
 *   its barycenter (running mean) and count and descends into the child for the point's
 *   quadrant (x ≥ center → upper half; x is the most significant bit of the quadrant),
 *   creating the child when missing; a leaf whose point is within 1e-6 on every axis
 *   counts a duplicate, otherwise it moves its point(s) into a new child and becomes inner;
 * - a cell's squared width is the largest squared side of its box.
 *
 * `flatten` then lays the cells out in depth-first order (children 0..3) with, for each
 * cell, the index just past its subtree, which is what the traversal kernel walks.
 */
export class QuadTree {
  capacity = 0;
  count = 0;
  private minX: Float64Array = new Float64Array(0);
  private maxX: Float64Array = new Float64Array(0);
  private minY: Float64Array = new Float64Array(0);
  private maxY: Float64Array = new Float64Array(0);
  private bx: Float64Array = new Float64Array(0);
  private by: Float64Array = new Float64Array(0);
  private size: Int32Array = new Int32Array(0);
  private leaf: Uint8Array = new Uint8Array(0);
  private children: Int32Array = new Int32Array(0);
  private subtree: Int32Array = new Int32Array(0);
  /** Per cell: the first point of a leaf (a list through nextPoint, for duplicates), −1 otherwise. */
  private head: Int32Array = new Int32Array(0);
  private nextPoint: Int32Array = new Int32Array(0);
  private stack: Int32Array = new Int32Array(0);
  /**
   * Flattened (depth-first) cells, read by the traversal kernel: 4 values per cell, together
   * in memory: barycenter x, y, squared width (−1 for a leaf), number of points.
   */
  cells: Float64Array = new Float64Array(0);
  /** Per flattened cell: the index just past its subtree. */
  cellNext: Int32Array = new Int32Array(0);
  /**
   * The points in the order of their leaves in the flattened tree (a space-filling order):
   * walking the tree for the points in this order makes neighbouring walks alike, which
   * keeps the processor's caches and branch predictions warm.
   */
  order: Int32Array = new Int32Array(0);

  constructor(
    initialCapacity: number,
    /** Allocates the flattened arrays (those read by workers); e.g. in shared memory. */
    private readonly allocF64: (length: number) => Float64Array = (l) => new Float64Array(l),
    private readonly allocI32: (length: number) => Int32Array = (l) => new Int32Array(l),
  ) {
    this.grow(Math.max(16, initialCapacity));
  }

  private grow(capacity: number): void {
    const copyF = (a: Float64Array): Float64Array => {
      const b = new Float64Array(capacity);
      b.set(a.subarray(0, Math.min(a.length, capacity)));
      return b;
    };
    this.minX = copyF(this.minX);
    this.maxX = copyF(this.maxX);
    this.minY = copyF(this.minY);
    this.maxY = copyF(this.maxY);
    this.bx = copyF(this.bx);
    this.by = copyF(this.by);
    const size = new Int32Array(capacity);
    size.set(this.size);
    this.size = size;
    const leaf = new Uint8Array(capacity);
    leaf.set(this.leaf);
    this.leaf = leaf;
    const head = new Int32Array(capacity);
    head.set(this.head);
    this.head = head;
    const children = new Int32Array(4 * capacity).fill(-1);
    children.set(this.children);
    this.children = children;
    this.subtree = new Int32Array(capacity);
    this.stack = new Int32Array(3 * capacity + 4);
    this.cells = this.allocF64(4 * capacity);
    this.cellNext = this.allocI32(capacity);
    this.capacity = capacity;
  }

  /**
   * Builds the tree of the n points of Y (n × 2, row-major) and flattens it. Returns the
   * number of cells. Allocates only when the tree outgrows its capacity (then keeps it).
   */
  build(Y: Float64Array, n: number): number {
    if (this.nextPoint.length < n) {
      this.nextPoint = new Int32Array(n);
      this.order = this.allocI32(n);
    }
    let mx = Infinity;
    let my = Infinity;
    let Mx = -Infinity;
    let My = -Infinity;
    for (let i = 0; i < n; i++) {
      const x = Y[2 * i];
      const y = Y[2 * i + 1];
      if (x < mx) mx = x;
      if (x > Mx) Mx = x;
      if (y < my) my = y;
      if (y > My) My = y;
    }
    Mx = Math.max(Mx * (1 + 1e-3 * Math.sign(Mx)), Mx + 1e-3);
    My = Math.max(My * (1 + 1e-3 * Math.sign(My)), My + 1e-3);
    this.count = 1;
    this.minX[0] = mx;
    this.maxX[0] = Mx;
    this.minY[0] = my;
    this.maxY[0] = My;
    this.size[0] = 0;
    this.leaf[0] = 1;
    this.head[0] = -1;
    this.children.fill(-1, 0, 4);
    for (let i = 0; i < n; i++) this.insert(Y[2 * i], Y[2 * i + 1], i);
    this.flatten();
    return this.count;
  }

  private insert(px: number, py: number, point: number): void {
    let c = 0;
    for (;;) {
      const s = this.size[c];
      if (s === 0) {
        this.size[c] = 1;
        this.bx[c] = px;
        this.by[c] = py;
        this.head[c] = point;
        this.nextPoint[point] = -1;
        return;
      }
      if (!this.leaf[c]) {
        this.bx[c] = (s * this.bx[c] + px) / (s + 1);
        this.by[c] = (s * this.by[c] + py) / (s + 1);
        this.size[c] = s + 1;
        const q = this.quadrant(c, px, py);
        const child = this.children[4 * c + q];
        if (child < 0) {
          this.newChild(c, q, px, py, 1, point);
          this.nextPoint[point] = -1;
          return;
        }
        c = child;
        continue;
      }
      if (Math.abs(px - this.bx[c]) <= 1e-6 && Math.abs(py - this.by[c]) <= 1e-6) {
        this.size[c] = s + 1;
        this.nextPoint[point] = this.head[c];
        this.head[c] = point;
        return;
      }
      // Move the leaf's point(s) into a child; the cell becomes inner and takes the new point next.
      const ox = this.bx[c];
      const oy = this.by[c];
      this.newChild(c, this.quadrant(c, ox, oy), ox, oy, s, this.head[c]);
      this.head[c] = -1;
    }
  }

  private quadrant(c: number, x: number, y: number): number {
    return (x >= (this.minX[c] + this.maxX[c]) / 2 ? 2 : 0) + (y >= (this.minY[c] + this.maxY[c]) / 2 ? 1 : 0);
  }

  private newChild(parent: number, q: number, x: number, y: number, size: number, head: number): void {
    if (this.count >= this.capacity) this.grow(2 * this.capacity);
    const id = this.count++;
    const cx = (this.minX[parent] + this.maxX[parent]) / 2;
    const cy = (this.minY[parent] + this.maxY[parent]) / 2;
    if (q & 2) {
      this.minX[id] = cx;
      this.maxX[id] = this.maxX[parent];
    } else {
      this.minX[id] = this.minX[parent];
      this.maxX[id] = cx;
    }
    if (q & 1) {
      this.minY[id] = cy;
      this.maxY[id] = this.maxY[parent];
    } else {
      this.minY[id] = this.minY[parent];
      this.maxY[id] = cy;
    }
    this.bx[id] = x;
    this.by[id] = y;
    this.size[id] = size;
    this.leaf[id] = 1;
    this.head[id] = head;
    const o = 4 * id;
    this.children[o] = -1;
    this.children[o + 1] = -1;
    this.children[o + 2] = -1;
    this.children[o + 3] = -1;
    this.leaf[parent] = 0;
    this.children[4 * parent + q] = id;
  }

  private flatten(): void {
    const { count, children, subtree, stack, leaf } = this;
    // Children are created after their parents: subtree sizes in one backward pass.
    for (let c = count - 1; c >= 0; c--) {
      let t = 1;
      if (!leaf[c]) {
        for (let q = 0; q < 4; q++) {
          const ch = children[4 * c + q];
          if (ch >= 0) t += subtree[ch];
        }
      }
      subtree[c] = t;
    }
    const { cells, cellNext, order, nextPoint, head } = this;
    let at = 0;
    let top = 0;
    let pos = 0;
    stack[top++] = 0;
    while (top > 0) {
      const c = stack[--top];
      const o = 4 * pos;
      cells[o] = this.bx[c];
      cells[o + 1] = this.by[c];
      cells[o + 3] = this.size[c];
      if (leaf[c]) {
        cells[o + 2] = -1;
        for (let p = head[c]; p >= 0; p = nextPoint[p]) order[at++] = p;
      }
      else {
        const wx = this.maxX[c] - this.minX[c];
        const wy = this.maxY[c] - this.minY[c];
        cells[o + 2] = Math.max(wx * wx, wy * wy);
        for (let q = 3; q >= 0; q--) {
          const ch = children[4 * c + q];
          if (ch >= 0) stack[top++] = ch;
        }
      }
      cellNext[pos] = pos + subtree[c];
      pos++;
    }
  }
}
