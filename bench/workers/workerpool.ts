// workerpool's worker script: registers the methods `pool.exec` names.
import workerpool from "workerpool"
import { block, spinTask, square, squares, warm } from "./kernels.ts"

workerpool.worker({ square, squares, spin: spinTask, warm, block })
