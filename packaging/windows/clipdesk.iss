; Inno Setup script for ClipDesk (Inno Setup 6.3 or later).
;
; Built by packaging\windows\build.ps1, which passes:
;   /DAppVersion=0.1.0            the version of the bundle
;   /DSourceDir=...\dist\clipdesk   the PyInstaller onedir build
;   /DOutputDir=...\packaging\out
;   /DFlavor=cpu|directml|cuda    which ONNX Runtime the bundle carries
;
; Per-user install without administrator rights (PrivilegesRequired=lowest):
; {autopf} is then %LOCALAPPDATA%\Programs and the uninstaller registers under
; HKCU. The GPU builds are separate installers with the same AppId, so
; installing one replaces the other in place; the user's library (catalog,
; settings, models: %LOCALAPPDATA%\ClipDesk\ClipDesk) is never touched by install or uninstall.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef SourceDir
  #define SourceDir "..\out\dist\clipdesk"
#endif
#ifndef OutputDir
  #define OutputDir "..\out"
#endif
#ifndef Flavor
  #define Flavor "cpu"
#endif

#define AppName "ClipDesk"
#define AppExe "ClipDesk.exe"
#if Flavor == "cpu"
  #define FlavorSuffix ""
  #define FlavorName ""
#elif Flavor == "directml"
  #define FlavorSuffix "-directml"
  #define FlavorName " (GPU: DirectML)"
#elif Flavor == "cuda"
  #define FlavorSuffix "-cuda"
  #define FlavorName " (GPU: CUDA)"
#else
  #error Flavor must be cpu, directml or cuda
#endif

[Setup]
; One AppId for every flavour: a GPU installer upgrades a CPU install in place.
AppId={{5B0E8C6A-3F1D-4E47-9C2B-7D8A1E6F4C39}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}{#FlavorName}
AppPublisher=ClipDesk developers
AppPublisherURL=https://github.com/clipdesk/clipdesk
VersionInfoVersion={#AppVersion}
PrivilegesRequired=lowest
DefaultDirName={autopf}\{#AppName}
DisableProgramGroupPage=yes
DisableDirPage=auto
UninstallDisplayName={#AppName}{#FlavorName}
UninstallDisplayIcon={app}\{#AppExe}
SetupIconFile=..\icons\clipdesk.ico
OutputDir={#OutputDir}
OutputBaseFilename=ClipDesk-{#AppVersion}-win64{#FlavorSuffix}-setup
Compression=lzma2/max
SolidCompression=yes
LZMAUseSeparateProcess=yes
WizardStyle=modern
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
; Windows 10 1809: the oldest release PySide6 6 and ONNX Runtime support.
MinVersion=10.0.17763
CloseApplications=yes
RestartApplications=no
ChangesAssociations=no

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[InstallDelete]
; A bundle from another version or flavour must not leave stale DLLs behind
; (onnxruntime-directml ships DirectML.dll, the CPU build does not).
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; WorkingDir: "{app}"; Comment: "Find your photos by typing what you remember"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; WorkingDir: "{app}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; Files the app may write next to itself (none today); the user's library,
; settings and downloaded models stay in %LOCALAPPDATA%\ClipDesk\ClipDesk.
Type: filesandordirs; Name: "{app}\_internal\__pycache__"
