#!/usr/bin/env bash
# Proves the packages are what a consumer needs and no more: `dotnet pack` of the core (src/Igcv2) and its three
# add-ons yields four .nupkg files; the core carries the generator and the code fixes under analyzers/dotnet/cs and
# depends on none of the add-ons' libraries (Spectre.Console, ScottPlot, SkiaSharp); a console project outside the
# repo that references only the core declares a network, builds (the generator runs from the package), prints
# ParameterCount, and has none of those libraries in its output.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

work="$(mktemp -d)"
# A version of its own, so the global packages folder never serves a stale copy of an earlier run.
version="0.0.0-pack.$(date +%s).$$"
projects=(Igcv2 Igcv2.Training.Console Igcv2.Training.Plots Igcv2.Data.Jpeg)
cleanup() {
  rm -rf "$work"
  for id in "${projects[@]}"; do
    rm -rf "${NUGET_PACKAGES:-$HOME/.nuget/packages}/${id,,}/$version"
  done
}
trap cleanup EXIT

for id in "${projects[@]}"; do
  echo "== pack $id $version"
  dotnet pack "$repo/src/$id" -c Release -o "$work/feed" -p:Version="$version" --nologo -v quiet
done

packages=("$work"/feed/*.nupkg)
if [ "${#packages[@]}" -ne "${#projects[@]}" ]; then
  echo "FAIL: expected ${#projects[@]} packages, found ${#packages[@]}: ${packages[*]}" >&2
  exit 1
fi
core="$work/feed/Igcv2.$version.nupkg"
contents="$(unzip -Z1 "$core")"
echo "$contents" | sed 's/^/   /'
grep -qx 'analyzers/dotnet/cs/Igcv2.Generators.dll' <<<"$contents" || { echo "FAIL: no analyzers/dotnet/cs/Igcv2.Generators.dll in the package" >&2; exit 1; }
grep -qx 'analyzers/dotnet/cs/Igcv2.CodeFixes.dll' <<<"$contents" || { echo "FAIL: no analyzers/dotnet/cs/Igcv2.CodeFixes.dll (the code fixes) in the package" >&2; exit 1; }
grep -qx 'lib/net10.0/Igcv2.dll' <<<"$contents" || { echo "FAIL: no lib/net10.0/Igcv2.dll in the package" >&2; exit 1; }
grep -qx 'lib/net10.0/Igcv2.xml' <<<"$contents" || { echo "FAIL: no lib/net10.0/Igcv2.xml (the XML documentation) in the package" >&2; exit 1; }
nuspec="$(unzip -p "$core" Igcv2.nuspec)"
echo "$nuspec" | grep -o '<dependency id="[^"]*"' | sed 's/^/   depends on /'
if grep -Eiq 'dependency id="(Spectre\.Console|ScottPlot|SkiaSharp)' <<<"$nuspec"; then
  echo "FAIL: the core package depends on an add-on's library" >&2
  exit 1
fi
for id in Igcv2.Training.Console Igcv2.Training.Plots Igcv2.Data.Jpeg; do
  unzip -p "$work/feed/$id.$version.nupkg" "$id.nuspec" | grep -q "<dependency id=\"Igcv2\" version=\"$version\"" \
    || { echo "FAIL: $id does not depend on Igcv2 $version" >&2; exit 1; }
done

echo "== consumer"
mkdir -p "$work/consumer"
# The repo's sources (nuget.org or its mirror) for the dependencies, the fresh feed for Igcv2 itself.
sed "s#<clear />#<clear />\n    <add key=\"local\" value=\"$work/feed\" />#" "$repo/nuget.config" > "$work/consumer/nuget.config"
cat > "$work/consumer/Consumer.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Igcv2" Version="$version" />
  </ItemGroup>
</Project>
XML
cat > "$work/consumer/Program.cs" <<'CS'
using Igcv2;

Console.WriteLine($"ParameterCount = {Tiny.ParameterCount}");
Console.WriteLine($"MultiplyAdds = {Tiny.MultiplyAdds}");

[Igcv2Network(InputChannels = 3, InputSize = 8, Classes = 10)]
[Stem(16)]
[Stage(16, Blocks = 2, K = [1, 4, 4])]
public partial class Tiny;
CS

dotnet build "$work/consumer" -c Release --nologo -v quiet
output="$(dotnet "$work/consumer/bin/Release/net10.0/Consumer.dll")"
echo "$output"
# stem 3*16*9 + 2*16, two blocks of 16*9 + 16*4 + 16*4 + 2*3*16, classifier 16*10 + 10
grep -qx 'ParameterCount = 1370' <<<"$output" || { echo "FAIL: expected ParameterCount = 1370" >&2; exit 1; }
if ls "$work/consumer/bin/Release/net10.0" | grep -Eiq '^(Spectre|ScottPlot|SkiaSharp|libSkiaSharp)'; then
  echo "FAIL: the consumer's output carries an add-on's library" >&2
  exit 1
fi
echo "OK: the core package alone generates the network, and brings no console, plot or image library"
