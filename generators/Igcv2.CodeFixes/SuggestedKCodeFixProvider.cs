using System.Collections.Generic;
using System.Collections.Immutable;
using System.Composition;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using static Microsoft.CodeAnalysis.CSharp.SyntaxFactory;

namespace Igcv2.CodeFixes;

/// <summary>
/// Applies what the generator's diagnostics propose, on the attribute they are reported on:
/// <list type="bullet">
/// <item>IGCV001, IGCV002, IGCV005: the complementary (or balanced) K the message names;</item>
/// <item>IGCV003: the K that fits;</item>
/// <item>IGCV001 (the error): <c>Loose = true</c>, accepting the sparse composed kernel.</item>
/// </list>
/// The generator hands the K over in <see cref="Diagnostic.Properties"/> under <see cref="SuggestedKProperty"/>, so the
/// fixer never recomputes the paper's math; it only rewrites syntax. Fix All applies each diagnostic's own K.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(SuggestedKCodeFixProvider)), Shared]
public sealed class SuggestedKCodeFixProvider : CodeFixProvider
{
    /// <summary>The property the generator writes (Igcv2.Generators' DiagnosticInfo.SuggestedKProperty; a test keeps them equal).</summary>
    internal const string SuggestedKProperty = "SuggestedK";

    /// <summary>Equivalence keys: one per kind of fix, the same for every diagnostic, so Fix All groups them.</summary>
    internal const string UseSuggestedKKey = "Igcv2.UseSuggestedK";
    internal const string SetLooseKey = "Igcv2.SetLoose";

    private const string NotDense = "IGCV001";

    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(NotDense, "IGCV002", "IGCV003", "IGCV005");

    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null) return;

        foreach (var diagnostic in context.Diagnostics)
        {
            var attribute = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true)
                .AncestorsAndSelf().OfType<AttributeSyntax>().FirstOrDefault();
            // K and Loose belong to the layer attributes; a finding reported elsewhere ([Variant]) has no fix here.
            if (attribute is null || !IsLayer(attribute)) continue;

            if (ParseK(diagnostic) is { } k && !SameK(attribute, k))
            {
                var title = "Use K = [" + string.Join(", ", k.Select(x => x.ToString(CultureInfo.InvariantCulture))) + "]";
                context.RegisterCodeFix(
                    CodeAction.Create(title, token => Replace(context.Document, attribute, WithK(attribute, k), token), UseSuggestedKKey),
                    diagnostic);
            }

            // Loose = true turns the error into a warning; a warning already has it.
            if (diagnostic.Id == NotDense && diagnostic.Severity == DiagnosticSeverity.Error && !IsLoose(attribute))
            {
                context.RegisterCodeFix(
                    CodeAction.Create("Set Loose = true (accept a sparse composed kernel)", token => Replace(context.Document, attribute, WithLoose(attribute), token), SetLooseKey),
                    diagnostic);
            }
        }
    }

    private static bool IsLayer(AttributeSyntax attribute)
    {
        var name = attribute.Name switch
        {
            QualifiedNameSyntax q => q.Right.Identifier.ValueText,
            AliasQualifiedNameSyntax a => a.Name.Identifier.ValueText,
            SimpleNameSyntax simple => simple.Identifier.ValueText,
            _ => "",
        };
        if (name.EndsWith("Attribute", System.StringComparison.Ordinal)) name = name.Substring(0, name.Length - "Attribute".Length);
        return name is "Stage" or "Igcv3Stage" or "Classifier";
    }

    private static int[]? ParseK(Diagnostic diagnostic)
    {
        if (!diagnostic.Properties.TryGetValue(SuggestedKProperty, out var text) || string.IsNullOrEmpty(text)) return null;
        var parts = text!.Split(',');
        var k = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out k[i]) || k[i] <= 0) return null;
        }
        return k;
    }

    private static async Task<Document> Replace(Document document, SyntaxNode oldNode, SyntaxNode newNode, CancellationToken token)
    {
        var root = await document.GetSyntaxRootAsync(token).ConfigureAwait(false);
        return root is null ? document : document.WithSyntaxRoot(root.ReplaceNode(oldNode, newNode));
    }

    private static AttributeArgumentSyntax? Named(AttributeSyntax attribute, string name) =>
        attribute.ArgumentList?.Arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == name);

    private static bool IsLoose(AttributeSyntax attribute) =>
        Named(attribute, "Loose")?.Expression.IsKind(SyntaxKind.TrueLiteralExpression) == true;

    private static bool SameK(AttributeSyntax attribute, int[] k)
    {
        var elements = Named(attribute, "K")?.Expression switch
        {
            CollectionExpressionSyntax c => c.Elements.Select(e => (e as ExpressionElementSyntax)?.Expression).ToList(),
            ImplicitArrayCreationExpressionSyntax a => a.Initializer.Expressions.Select(e => (ExpressionSyntax?)e).ToList(),
            ArrayCreationExpressionSyntax a when a.Initializer is not null => a.Initializer.Expressions.Select(e => (ExpressionSyntax?)e).ToList(),
            _ => null,
        };
        return elements is not null && elements.Count == k.Length
            && elements.Select((e, i) => e is LiteralExpressionSyntax { Token.Value: int v } && v == k[i]).All(same => same);
    }

    /// <summary>The attribute with K replaced (or added), written the way the declaration writes arrays.</summary>
    private static AttributeSyntax WithK(AttributeSyntax attribute, int[] k)
    {
        var existing = Named(attribute, "K");
        var literals = k.Select(x => LiteralExpression(SyntaxKind.NumericLiteralExpression, Literal(x))).ToList();
        ExpressionSyntax value = existing?.Expression is CollectionExpressionSyntax || existing is null && SupportsCollectionExpressions(attribute)
            ? CollectionExpression(SeparatedList<CollectionElementSyntax>(literals.Select(ExpressionElement), Commas(literals.Count)))
            : ImplicitArrayCreationExpression(InitializerExpression(SyntaxKind.ArrayInitializerExpression, SeparatedList<ExpressionSyntax>(literals, Commas(literals.Count)))
                .WithOpenBraceToken(Token(SyntaxKind.OpenBraceToken).WithTrailingTrivia(Space))
                .WithCloseBraceToken(Token(SyntaxKind.CloseBraceToken).WithLeadingTrivia(Space)));

        if (existing is not null)
        {
            return attribute.ReplaceNode(existing, existing.WithExpression(value.WithTriviaFrom(existing.Expression)));
        }
        return AddNamed(attribute, "K", value);
    }

    private static AttributeSyntax WithLoose(AttributeSyntax attribute)
    {
        var value = LiteralExpression(SyntaxKind.TrueLiteralExpression);
        var existing = Named(attribute, "Loose");
        return existing is not null
            ? attribute.ReplaceNode(existing, existing.WithExpression(value.WithTriviaFrom(existing.Expression)))
            : AddNamed(attribute, "Loose", value);
    }

    private static AttributeSyntax AddNamed(AttributeSyntax attribute, string name, ExpressionSyntax value)
    {
        var argument = AttributeArgument(NameEquals(IdentifierName(name)).WithTrailingTrivia(Space), null, value);
        var list = attribute.ArgumentList ?? AttributeArgumentList();
        var separators = list.Arguments.GetSeparators().Select(s => s).ToList();
        var arguments = list.Arguments.ToList();
        if (arguments.Count > 0) separators.Add(Token(SyntaxKind.CommaToken).WithTrailingTrivia(Space));
        arguments.Add(argument);
        return attribute.WithArgumentList(list.WithArguments(SeparatedList(arguments, separators)));
    }

    private static IEnumerable<SyntaxToken> Commas(int count) =>
        Enumerable.Range(0, System.Math.Max(0, count - 1)).Select(_ => Token(SyntaxKind.CommaToken).WithTrailingTrivia(Space));

    private static bool SupportsCollectionExpressions(SyntaxNode node) =>
        node.SyntaxTree.Options is CSharpParseOptions { LanguageVersion: >= LanguageVersion.CSharp12 };
}
