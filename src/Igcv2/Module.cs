// Locals are not zeroed on entry: every local is assigned before it is read (the compiler checks it) and every
// stackalloc is filled or cleared where it is made. The kernels' frames (many vector locals, short calls by the
// thousand at batch 1) then start without a zeroing pass.
[module: System.Runtime.CompilerServices.SkipLocalsInit]
