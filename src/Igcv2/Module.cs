// Locals are not zeroed on entry: every local is assigned where it is declared or before it is read (the compiler
// checks that, except for a local whose address goes to native code, which is initialised where it is declared), and
// every stackalloc is filled or cleared where it is made. The kernels' frames (many vector locals, short calls by the
// thousand at batch 1) then start without a zeroing pass.
[module: System.Runtime.CompilerServices.SkipLocalsInit]
