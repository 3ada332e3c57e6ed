// Pixel operations on RGBA images: pure functions, no I/O and no codec, so the
// worker (worker.ts) and the smoke test use the very same code.
//
// An image is `width * height` pixels of 4 bytes (r, g, b, a), row by row, as
// pngjs decodes it. Every operation returns a new image and keeps alpha.

/** An RGBA image: `data.length === width * height * 4`. */
export interface Rgba {
  readonly width: number
  readonly height: number
  readonly data: Uint8Array
}

/** The 3×3 filters: `sharpen` and `blur` work on r, g, b; `sobel` gives the edge strength of the luma, in gray. */
export const filterNames = ["sharpen", "blur", "sobel"] as const
export type FilterName = (typeof filterNames)[number]

/** Rec. 601 luma, rounded: what `grayscale` writes to r, g and b. */
export const luma = (r: number, g: number, b: number): number => Math.round(0.299 * r + 0.587 * g + 0.114 * b)

/** Every pixel becomes its luma (r = g = b); alpha is kept. */
export const grayscale = (image: Rgba): Rgba => {
  const { data } = image
  const out = new Uint8Array(data.length)
  for (let i = 0; i < data.length; i += 4) {
    const y = luma(data[i], data[i + 1], data[i + 2])
    out[i] = y
    out[i + 1] = y
    out[i + 2] = y
    out[i + 3] = data[i + 3]
  }
  return { width: image.width, height: image.height, data: out }
}

/**
 * The size of the thumbnail of a `width × height` image: its longer side
 * becomes `maxSide` (never enlarged), the aspect ratio is kept, and no side is
 * below 1. 640×480 at 128 gives 128×96.
 */
export const thumbnailSize = (width: number, height: number, maxSide: number) => {
  const scale = Math.min(1, maxSide / Math.max(width, height))
  return {
    width: Math.max(1, Math.round(width * scale)),
    height: Math.max(1, Math.round(height * scale))
  }
}

/**
 * Downscales with a box filter: each thumbnail pixel is the mean of the
 * source pixels its area covers (at least one), channel by channel, rounded.
 * A constant image stays the same constant.
 */
export const thumbnail = (image: Rgba, maxSide: number): Rgba => {
  const { width: w, height: h, data } = image
  const size = thumbnailSize(w, h, maxSide)
  const out = new Uint8Array(size.width * size.height * 4)
  for (let ty = 0; ty < size.height; ty++) {
    const y0 = Math.floor((ty * h) / size.height)
    const y1 = Math.max(y0 + 1, Math.floor(((ty + 1) * h) / size.height))
    for (let tx = 0; tx < size.width; tx++) {
      const x0 = Math.floor((tx * w) / size.width)
      const x1 = Math.max(x0 + 1, Math.floor(((tx + 1) * w) / size.width))
      let r = 0
      let g = 0
      let b = 0
      let a = 0
      for (let y = y0; y < y1; y++) {
        for (let i = (y * w + x0) * 4, end = (y * w + x1) * 4; i < end; i += 4) {
          r += data[i]
          g += data[i + 1]
          b += data[i + 2]
          a += data[i + 3]
        }
      }
      const n = (y1 - y0) * (x1 - x0)
      const o = (ty * size.width + tx) * 4
      out[o] = Math.round(r / n)
      out[o + 1] = Math.round(g / n)
      out[o + 2] = Math.round(b / n)
      out[o + 3] = Math.round(a / n)
    }
  }
  return { width: size.width, height: size.height, data: out }
}

/** 3×3 kernels, row by row; each sums to 1, so a constant image is unchanged. */
export const kernels = {
  sharpen: [0, -1, 0, -1, 5, -1, 0, -1, 0],
  // Gaussian: 1-2-1 outer product, divided by 16
  blur: [1, 2, 1, 2, 4, 2, 1, 2, 1].map((k) => k / 16)
} as const

const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v))

/**
 * Convolves r, g and b with a 3×3 kernel; alpha is kept. Borders repeat the
 * edge pixel (a pixel outside the image is its nearest pixel inside), so a
 * constant image stays constant. Results are rounded and clamped to 0..255.
 */
export const convolve = (image: Rgba, kernel: ReadonlyArray<number>): Rgba => {
  const { width: w, height: h, data } = image
  const [k0, k1, k2, k3, k4, k5, k6, k7, k8] = kernel
  const out = new Uint8Array(data.length)
  for (let y = 0; y < h; y++) {
    const up = Math.max(0, y - 1) * w * 4
    const mid = y * w * 4
    const down = Math.min(h - 1, y + 1) * w * 4
    for (let x = 0; x < w; x++) {
      const l = Math.max(0, x - 1) * 4
      const c = x * 4
      const r = Math.min(w - 1, x + 1) * 4
      for (let ch = 0; ch < 3; ch++) {
        const v =
          k0 * data[up + l + ch] +
          k1 * data[up + c + ch] +
          k2 * data[up + r + ch] +
          k3 * data[mid + l + ch] +
          k4 * data[mid + c + ch] +
          k5 * data[mid + r + ch] +
          k6 * data[down + l + ch] +
          k7 * data[down + c + ch] +
          k8 * data[down + r + ch]
        out[mid + c + ch] = clamp(v)
      }
      out[mid + c + 3] = data[mid + c + 3]
    }
  }
  return { width: w, height: h, data: out }
}

/**
 * Sobel edge strength of the luma: `sqrt(gx² + gy²) / 4`, rounded and
 * clamped, written as gray with alpha kept. Divided by 4 so that a straight
 * step edge of height d gives d on both sides of the step (and a flat area 0).
 * Borders repeat the edge pixel, as in `convolve`.
 */
export const sobel = (image: Rgba): Rgba => {
  const { width: w, height: h, data } = image
  const y8 = new Float64Array(w * h)
  for (let p = 0; p < w * h; p++) y8[p] = luma(data[p * 4], data[p * 4 + 1], data[p * 4 + 2])
  const out = new Uint8Array(data.length)
  for (let y = 0; y < h; y++) {
    const up = Math.max(0, y - 1) * w
    const mid = y * w
    const down = Math.min(h - 1, y + 1) * w
    for (let x = 0; x < w; x++) {
      const l = Math.max(0, x - 1)
      const r = Math.min(w - 1, x + 1)
      const gx = y8[up + r] + 2 * y8[mid + r] + y8[down + r] - y8[up + l] - 2 * y8[mid + l] - y8[down + l]
      const gy = y8[down + l] + 2 * y8[down + x] + y8[down + r] - y8[up + l] - 2 * y8[up + x] - y8[up + r]
      const v = clamp(Math.sqrt(gx * gx + gy * gy) / 4)
      const o = (y * w + x) * 4
      out[o] = v
      out[o + 1] = v
      out[o + 2] = v
      out[o + 3] = data[o + 3]
    }
  }
  return { width: w, height: h, data: out }
}

/** Applies a named filter. */
export const applyFilter = (image: Rgba, filter: FilterName): Rgba =>
  filter === "sobel" ? sobel(image) : convolve(image, kernels[filter])
