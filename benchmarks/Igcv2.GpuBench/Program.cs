// Usage: dotnet run -c Release --project benchmarks/Igcv2.GpuBench -- [--device cpu|cuda] [--networks c64,digits]
//        [--batches 64,256] [--runs 5] [--profile c64] [--quick] [--out bench-results]   (--help for all)
return Igcv2.GpuBench.GpuBenchApp.Run(args);
