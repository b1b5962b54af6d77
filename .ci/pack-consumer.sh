#!/usr/bin/env bash
# Proves the Igcv2 package is all a consumer needs: `dotnet pack src/Igcv2 -c Release` yields one .nupkg
# carrying the generator under analyzers/dotnet/cs; a console project outside the repo that references only
# that package declares a network, builds (the generator runs from the package) and prints ParameterCount.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

work="$(mktemp -d)"
# A version of its own, so the global packages folder never serves a stale copy of an earlier run.
version="0.0.0-pack.$(date +%s).$$"
cleanup() {
  rm -rf "$work"
  rm -rf "${NUGET_PACKAGES:-$HOME/.nuget/packages}/igcv2/$version"
}
trap cleanup EXIT

echo "== pack Igcv2 $version"
dotnet pack "$repo/src/Igcv2" -c Release -o "$work/feed" -p:Version="$version" --nologo -v quiet

packages=("$work"/feed/*.nupkg)
if [ "${#packages[@]}" -ne 1 ]; then
  echo "FAIL: expected one .nupkg, found ${#packages[@]}: ${packages[*]}" >&2
  exit 1
fi
contents="$(unzip -Z1 "${packages[0]}")"
echo "$contents" | sed 's/^/   /'
grep -qx 'analyzers/dotnet/cs/Igcv2.Generators.dll' <<<"$contents" || { echo "FAIL: no analyzers/dotnet/cs/Igcv2.Generators.dll in the package" >&2; exit 1; }
grep -qx 'analyzers/dotnet/cs/Igcv2.CodeFixes.dll' <<<"$contents" || { echo "FAIL: no analyzers/dotnet/cs/Igcv2.CodeFixes.dll (the code fixes) in the package" >&2; exit 1; }
grep -qx 'lib/net10.0/Igcv2.dll' <<<"$contents" || { echo "FAIL: no lib/net10.0/Igcv2.dll in the package" >&2; exit 1; }

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
echo "OK: the package alone generates the network"
