using System.ComponentModel;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;

namespace Igcv2.Tests.PublicApi;

/// <summary>
/// The public surface of every shipped assembly, compared with the reviewed listing beside this file
/// (<c>&lt;assembly&gt;.approved.txt</c>), so that a change to it is a deliberate one. A change writes
/// <c>&lt;assembly&gt;.received.txt</c> beside the approved file: review it, then copy it over. Members hidden from
/// IntelliSense (generated code's helpers, ILGPU's types) are marked <c>[hidden]</c>.
/// </summary>
public class PublicApiTests
{
    public static TheoryData<string> Assemblies => new()
    {
        typeof(Device).Assembly.GetName().Name!,
        typeof(global::Igcv2.Training.ConsoleProgressObserver).Assembly.GetName().Name!,
        typeof(global::Igcv2.Training.PlotObserver).Assembly.GetName().Name!,
        typeof(global::Igcv2.Data.SkiaJpegDecoder).Assembly.GetName().Name!,
    };

    [Theory]
    [MemberData(nameof(Assemblies))]
    public void The_public_surface_is_the_approved_one(string name)
    {
        var assembly = AppDomain.CurrentDomain.GetAssemblies().Single(a => a.GetName().Name == name);
        var actual = Listing(assembly);
        var folder = Path.Combine(RepoRoot(), "tests", "Igcv2.Tests", "PublicApi");
        var approvedPath = Path.Combine(folder, name + ".approved.txt");
        var receivedPath = Path.Combine(folder, name + ".received.txt");
        var approved = File.Exists(approvedPath) ? File.ReadAllText(approvedPath).ReplaceLineEndings("\n") : "";
        if (approved == actual)
        {
            File.Delete(receivedPath);
            return;
        }
        File.WriteAllText(receivedPath, actual);
        var before = approved.Split('\n').ToHashSet();
        var after = actual.Split('\n').ToHashSet();
        Assert.Fail($"The public surface of {name} changed (review {receivedPath}, then copy it over the approved file):\n" +
            string.Join("\n", before.Except(after).Select(l => "- " + l).Concat(after.Except(before).Select(l => "+ " + l)).Take(40)));
    }

    [Fact]
    public void Generated_codes_helpers_and_ILGPUs_types_are_hidden_from_IntelliSense()
    {
        static bool Hidden(MemberInfo m) => m.GetCustomAttribute<EditorBrowsableAttribute>()?.State == EditorBrowsableState.Never;
        Assert.True(Hidden(typeof(global::Igcv2.Models.ModelCore<>)));
        Assert.All(new[] { typeof(global::Igcv2.Models.Conv2dLayer), typeof(global::Igcv2.Models.BatchNormLayer), typeof(global::Igcv2.Models.LinearLayer), typeof(global::Igcv2.Models.BiasLayer) }, t => Assert.True(Hidden(t), t.Name));
        Assert.True(Hidden(typeof(Device).GetProperty(nameof(Device.Accelerator))!));
        Assert.True(Hidden(typeof(Device).GetProperty(nameof(Device.Context))!));
        Assert.True(Hidden(typeof(Tensor).GetProperty(nameof(Tensor.View))!));
        // What DESIGN.md's contract names stays in view.
        Assert.False(Hidden(typeof(Device).GetMethod(nameof(Device.Allocate))!));
        Assert.False(Hidden(typeof(Tensor).GetMethod(nameof(Tensor.ToArray))!));
    }

    private static string Listing(Assembly assembly)
    {
        var text = new StringBuilder();
        foreach (var type in assembly.GetExportedTypes().OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            text.Append(Kind(type)).Append(' ').Append(Name(type));
            var bases = new List<string>();
            if (type.BaseType is { } b && b != typeof(object) && b != typeof(ValueType) && b != typeof(Enum) && b != typeof(MulticastDelegate)) bases.Add(Name(b));
            bases.AddRange(type.GetInterfaces().Where(i => i.IsPublic || i.IsNestedPublic).Select(Name).Order(StringComparer.Ordinal));
            if (bases.Count > 0) text.Append(" : ").Append(string.Join(", ", bases));
            text.Append(Hidden(type)).Append('\n');
            if (type.IsEnum)
            {
                foreach (var value in Enum.GetNames(type)) text.Append("  ").Append(value).Append('\n');
                continue;
            }
            const BindingFlags Flags = BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
            var members = type.GetMembers(Flags)
                .Where(m => m is not MethodInfo { IsSpecialName: true } && m is not Type)
                .Select(m => "  " + Member(m) + Hidden(m))
                .Order(StringComparer.Ordinal);
            foreach (var member in members) text.Append(member).Append('\n');
        }
        return text.ToString();
    }

    private static string Hidden(MemberInfo member) =>
        member.GetCustomAttribute<EditorBrowsableAttribute>()?.State == EditorBrowsableState.Never ? " [hidden]" : "";

    private static string Kind(Type t) =>
        t.IsEnum ? "enum" : t.IsInterface ? "interface" : t.IsValueType ? "struct" : typeof(Delegate).IsAssignableFrom(t) ? "delegate" : t.IsAbstract && t.IsSealed ? "static class" : "class";

    private static string Member(MemberInfo m) => m switch
    {
        ConstructorInfo c => $"ctor({Parameters(c)})",
        MethodInfo mi => $"{(mi.IsStatic ? "static " : "")}{Name(mi.ReturnType)} {mi.Name}{(mi.IsGenericMethod ? "<" + string.Join(", ", mi.GetGenericArguments().Select(a => a.Name)) + ">" : "")}({Parameters(mi)})",
        PropertyInfo p => $"{(p.GetMethod?.IsStatic == true ? "static " : "")}{Name(p.PropertyType)} {p.Name} {{ {(p.GetMethod?.IsPublic == true ? "get; " : "")}{(p.SetMethod?.IsPublic == true ? (p.SetMethod.ReturnParameter.GetRequiredCustomModifiers().Contains(typeof(IsExternalInit)) ? "init; " : "set; ") : "")}}}",
        FieldInfo f => $"{(f.IsLiteral ? "const " : f.IsStatic ? "static " : "")}{(f.IsInitOnly ? "readonly " : "")}{Name(f.FieldType)} {f.Name}",
        EventInfo e => $"event {Name(e.EventHandlerType!)} {e.Name}",
        _ => m.ToString()!,
    };

    private static string Parameters(MethodBase method) => string.Join(", ", method.GetParameters().Select(p =>
        (p.IsOut ? "out " : p.ParameterType.IsByRef ? (p.IsIn ? "in " : "ref ") : "") +
        (p.GetCustomAttribute<ParamArrayAttribute>() is not null ? "params " : "") +
        Name(p.ParameterType.IsByRef ? p.ParameterType.GetElementType()! : p.ParameterType) + " " + p.Name +
        (p.HasDefaultValue ? " = " + (p.DefaultValue is null ? "null" : p.DefaultValue is string s ? "\"" + s + "\"" : Convert.ToString(p.DefaultValue, System.Globalization.CultureInfo.InvariantCulture)) : "")));

    private static string Name(Type t)
    {
        if (t.IsGenericParameter) return t.Name;
        if (t.IsArray) return Name(t.GetElementType()!) + "[" + new string(',', t.GetArrayRank() - 1) + "]";
        if (t.IsByRef) return Name(t.GetElementType()!);
        if (Nullable.GetUnderlyingType(t) is { } inner) return Name(inner) + "?";
        var name = t.IsNested ? Name(t.DeclaringType!) + "." + t.Name : t.Namespace + "." + t.Name;
        if (!t.IsGenericType) return name;
        var tick = name.IndexOf('`');
        return (tick < 0 ? name : name[..tick]) + "<" + string.Join(", ", t.GetGenericArguments().Select(Name)) + ">";
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Igcv2Gen.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("Igcv2Gen.sln not found above " + AppContext.BaseDirectory);
    }
}
