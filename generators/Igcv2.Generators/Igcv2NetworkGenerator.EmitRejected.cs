namespace Igcv2.Generators;

public sealed partial class Igcv2NetworkGenerator
{
    /// <summary>
    /// Writes the members of a rejected network class: the same names and types as a valid one, each refusing
    /// to run with the reason. The build fails on the IGCV diagnostic anyway; these members only keep the uses
    /// of the class from adding errors of their own (CS0117, CS1729, CS1674) that would bury it.
    /// </summary>
    private static string EmitRejected(RejectedModel model)
    {
        const string Tensor = "global::Igcv2.Tensor";
        const string Throw = "throw new global::System.InvalidOperationException(__rejected)";
        var w = new SourceWriter();
        WriteHeader(w, model.Namespace);
        w.Line("/// <summary>Not generated: the declaration is rejected (see the IGCV error on its attributes). Every member throws.</summary>");
        w.Line(GeneratedCodeAttribute);
        using (w.Block($"{(model.Modifiers is null ? "" : model.Modifiers + " ")}partial class {model.ClassName} : global::Igcv2.IModel"))
        {
            // Named so that no network class (or its members) can clash with it.
            w.Line($"private const string __rejected = {SourceWriter.Literal(model.Reason)};");
            w.Line();
            w.Line("/// <summary>0: the declaration is rejected, so nothing was counted.</summary>");
            w.Line("public const long ParameterCount = 0L;");
            w.Line();
            w.Line("/// <summary>0: the declaration is rejected, so nothing was counted.</summary>");
            w.Line("public const long MultiplyAdds = 0L;");
            w.Line();
            w.Line($"public static global::Igcv2.ModelSummary Summary => {Throw};");
            w.Line();
            w.Line($"public static global::Igcv2.Design.NetworkSpec Spec => {Throw};");
            w.Line();
            w.Line($"public static global::Igcv2.Design.NetworkPlan Plan => {Throw};");
            w.Line();
            w.Line($"global::Igcv2.Design.NetworkPlan global::Igcv2.IModel.Plan => {Throw};");
            w.Line();
            w.Line("/// <summary>Throws: the declaration is rejected.</summary>");
            w.Line($"public {model.ClassName}(global::Igcv2.Device device, int batchSize, int seed = 0) => {Throw};");
            w.Line();
            w.Line($"public global::Igcv2.Device Device => {Throw};");
            w.Line();
            w.Line($"public int BatchSize => {Throw};");
            w.Line();
            w.Line($"public global::System.Collections.Generic.IReadOnlyList<global::Igcv2.Parameter> Parameters => {Throw};");
            w.Line();
            w.Line($"public global::System.Collections.Generic.IReadOnlyList<global::Igcv2.Parameter> Buffers => {Throw};");
            w.Line();
            w.Line($"public bool ComputeInputGradient {{ get => {Throw}; set => {Throw}; }}");
            w.Line();
            w.Line($"public {Tensor}? InputGradient => {Throw};");
            w.Line();
            w.Line($"public {Tensor} Forward({Tensor} input, bool training) => {Throw};");
            w.Line();
            w.Line($"public void Backward({Tensor} gradLogits) => {Throw};");
            w.Line();
            w.Line("public void Dispose() { }");
        }
        return w.ToString();
    }
}
