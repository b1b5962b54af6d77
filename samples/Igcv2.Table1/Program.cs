using Igcv2.Samples;

// Prints the summaries of the paper's Table 1 networks at depth 20, as the generator counted them.
Print("Xception (C35)", XceptionC35.Summary, XceptionC35.ParameterCount, XceptionC35.MultiplyAdds);
Print("IGC-V1 (C48)", IgcV1C48.Summary, IgcV1C48.ParameterCount, IgcV1C48.MultiplyAdds);
Print("IGCV2 (C64)", Igcv2C64.Summary, Igcv2C64.ParameterCount, Igcv2C64.MultiplyAdds);
Print("IGCV2* (C416)", Igcv2StarC416.Summary, Igcv2StarC416.ParameterCount, Igcv2StarC416.MultiplyAdds);
Print("IGCV2* (C416), L* of the first stage in every stage (Table 1 read literally)", Igcv2StarC416FirstStageL.Summary,
    Igcv2StarC416FirstStageL.ParameterCount, Igcv2StarC416FirstStageL.MultiplyAdds);

static void Print(string title, Igcv2.ModelSummary summary, long parameters, long multiplyAdds)
{
    Console.WriteLine($"== {title}, D = 20: {parameters / 1e6:0.000}M parameters, {multiplyAdds / 1e8:0.000} x 10^8 multiply-adds");
    Console.WriteLine(summary);
}
