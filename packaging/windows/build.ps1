<#
.SYNOPSIS
    Build the ClipDesk installer for Windows (PyInstaller onedir + Inno Setup).

.DESCRIPTION
    packaging\windows\build.ps1 [-Flavor cpu|directml|cuda] [-Fresh]

    Creates a build venv (packaging\out\build-venv-win-<flavor>; never the dev
    venv, which holds torch), installs ClipDesk's runtime dependencies and
    PyInstaller, swaps in the ONNX Runtime of the chosen flavour, runs
    packaging\clipdesk.spec, smoke-tests the bundle (--version, --self-test)
    and compiles packaging\windows\clipdesk.iss into
    packaging\out\ClipDesk-<version>-win64[-<flavor>]-setup.exe.

    Flavours (one installer each, same AppId: installing one replaces another):
      cpu       onnxruntime            runs everywhere (default)
      directml  onnxruntime-directml   any DirectX 12 GPU (AMD, Intel, NVIDIA); DirectML.dll is bundled
      cuda      onnxruntime-gpu        NVIDIA only; needs the CUDA 12 and cuDNN 9 runtimes installed
                                       (not bundled: size and licence)

    Needs: Python 3.11+ (the py launcher, or -Python), the MSVC build tools
    (hnswlib publishes no wheels and is compiled here), Inno Setup 6.3+
    (winget install JRSoftware.InnoSetup).

.PARAMETER Flavor
    cpu (default), directml or cuda.
.PARAMETER Fresh
    Recreate the build venv.
.PARAMETER Python
    The interpreter that creates the venv (default: py -3.11).
#>
[CmdletBinding()]
param(
    [ValidateSet('cpu', 'directml', 'cuda')]
    [string]$Flavor = 'cpu',
    [switch]$Fresh,
    [string]$Python = ''
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$Root = (Resolve-Path (Join-Path $PSScriptRoot '..\..')).Path
$Out = Join-Path $Root 'packaging\out'
$Venv = Join-Path $Out "build-venv-win-$Flavor"
$Dist = Join-Path $Out 'dist'
$Work = Join-Path $Out 'work'
$VPy = Join-Path $Venv 'Scripts\python.exe'

function Invoke-Checked {
    param([string]$Exe, [string[]]$Arguments)
    & $Exe @Arguments
    if ($LASTEXITCODE -ne 0) { throw "failed ($LASTEXITCODE): $Exe $($Arguments -join ' ')" }
}

$clock = [Diagnostics.Stopwatch]::StartNew()
New-Item -ItemType Directory -Force -Path $Out | Out-Null

# -- build venv ---------------------------------------------------------------
$stampFile = Join-Path $Venv '.clipdesk-build-stamp'
$want = (Get-FileHash (Join-Path $Root 'pyproject.toml')).Hash + (Get-FileHash $PSCommandPath).Hash
$have = if (Test-Path $stampFile) { Get-Content $stampFile -Raw } else { '' }
if ($Fresh -or -not (Test-Path $VPy) -or $have.Trim() -ne $want) {
    Write-Host "build.ps1: creating the build venv in $Venv"
    if (Test-Path $Venv) { Remove-Item -Recurse -Force $Venv }
    if ($Python) { Invoke-Checked $Python @('-m', 'venv', $Venv) }
    else { Invoke-Checked 'py' @('-3.11', '-m', 'venv', $Venv) }
    Invoke-Checked $VPy @('-m', 'pip', 'install', '-q', '--upgrade', 'pip')
    # hnswlib from source, never a cached wheel. (MSVC builds use /O2 without
    # /arch, so the -march=native problem of the Linux build does not arise;
    # the flag is set anyway so every platform builds it the same way.)
    $env:HNSWLIB_NO_NATIVE = '1'
    Invoke-Checked $VPy @('-m', 'pip', 'install', '-q', '--no-cache-dir', '--no-binary', 'hnswlib', 'hnswlib>=0.8.0')
    Invoke-Checked $VPy @('-m', 'pip', 'install', '-q', $Root, 'pyinstaller>=6.10,<7')
    # The spec analyses the source tree; an installed copy would be a stale snapshot.
    Invoke-Checked $VPy @('-m', 'pip', 'uninstall', '-q', '-y', 'clipdesk')
    switch ($Flavor) {
        'directml' {
            Invoke-Checked $VPy @('-m', 'pip', 'uninstall', '-q', '-y', 'onnxruntime')
            Invoke-Checked $VPy @('-m', 'pip', 'install', '-q', 'onnxruntime-directml>=1.17')
        }
        'cuda' {
            Invoke-Checked $VPy @('-m', 'pip', 'uninstall', '-q', '-y', 'onnxruntime')
            Invoke-Checked $VPy @('-m', 'pip', 'install', '-q', 'onnxruntime-gpu>=1.17')
        }
    }
    Set-Content -Path $stampFile -Value $want
}
# (find_spec rather than an import: no stderr, which Windows PowerShell 5.1 would turn into an error)
$hasTorch = & $VPy -c 'import importlib.util; print(importlib.util.find_spec(''torch'') is not None)'
if ($hasTorch -eq 'True') { throw 'torch is installed in the build venv; it must never be bundled (use -Fresh)' }
$providers = & $VPy -c 'import onnxruntime as o; print('', ''.join(o.get_available_providers()))'
Write-Host "build.ps1: ONNX Runtime providers in this build: $providers"

# -- PyInstaller --------------------------------------------------------------
if (Test-Path $Dist) { Remove-Item -Recurse -Force $Dist }
Invoke-Checked $VPy @('-m', 'PyInstaller', '--noconfirm', '--clean', '--log-level', 'WARN',
    '--distpath', $Dist, '--workpath', $Work, (Join-Path $Root 'packaging\clipdesk.spec'))
$App = Join-Path $Dist 'clipdesk'
$Cli = Join-Path $App 'clipdesk-cli.exe'
if (-not (Test-Path (Join-Path $App 'ClipDesk.exe'))) { throw "PyInstaller did not produce $App\ClipDesk.exe" }

# -- smoke test ---------------------------------------------------------------
$t = [Diagnostics.Stopwatch]::StartNew()
$versionLine = & $Cli --version
if ($LASTEXITCODE -ne 0) { throw 'clipdesk-cli --version failed' }
$tVersion = $t.ElapsedMilliseconds
$Version = ($versionLine -split ' ')[1]
$env:QT_QPA_PLATFORM = 'offscreen'
$t.Restart()
& $Cli --self-test
if ($LASTEXITCODE -ne 0) { throw 'clipdesk-cli --self-test failed' }
$tSelfTest = $t.ElapsedMilliseconds
Remove-Item Env:\QT_QPA_PLATFORM

# -- Inno Setup ---------------------------------------------------------------
$iscc = (Get-Command 'ISCC.exe' -ErrorAction SilentlyContinue).Source
foreach ($candidate in @("${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe", "$env:ProgramFiles\Inno Setup 6\ISCC.exe",
        "$env:LOCALAPPDATA\Programs\Inno Setup 6\ISCC.exe")) {
    if (-not $iscc -and (Test-Path $candidate)) { $iscc = $candidate }
}
if (-not $iscc) { throw 'Inno Setup 6 not found (winget install JRSoftware.InnoSetup)' }
Invoke-Checked $iscc @('/Q', "/DAppVersion=$Version", "/DSourceDir=$App", "/DOutputDir=$Out", "/DFlavor=$Flavor",
    (Join-Path $Root 'packaging\windows\clipdesk.iss'))
$suffix = if ($Flavor -eq 'cpu') { '' } else { "-$Flavor" }
$Setup = Join-Path $Out "ClipDesk-$Version-win64$suffix-setup.exe"

# -- summary ------------------------------------------------------------------
$bundleMB = [math]::Round(((Get-ChildItem -Recurse -File $App | Measure-Object Length -Sum).Sum) / 1MB)
$setupMB = [math]::Round((Get-Item $Setup).Length / 1MB, 1)
Write-Host "== ClipDesk $Version Windows build ($Flavor) =="
Write-Host "bundle (unpacked):  $bundleMB MiB  $App"
Write-Host "installer:          $setupMB MiB  $Setup"
Write-Host "start-up:           --version $tVersion ms; --self-test $tSelfTest ms"
Write-Host "total build time:   $([math]::Round($clock.Elapsed.TotalSeconds)) s"
