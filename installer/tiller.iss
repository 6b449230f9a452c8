; Inno Setup 6 script: Tiller for one Windows user, no administrator rights needed.
; Built by installer/build.py (iscc /DAppVersion=... /DFileVersion=... /DBundleDir=... /Odist tiller.iss).
; - installs into %LOCALAPPDATA%\Programs\Tiller (per user), Start-menu shortcuts, optional desktop icon;
; - the fixed AppId makes a new version upgrade the installed one in place (same folder, same entry
;   in Apps & features), closing a running Tiller first;
; - the uninstaller removes the program; the user's data and settings (%LOCALAPPDATA%\Tiller and
;   %APPDATA%\Tiller: books, logs, config.toml) stay unless the user ticks the box to remove them.
;   Secrets live in Windows Credential Manager and are never touched.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef FileVersion
  #define FileVersion "0.0.0.0"
#endif
#ifndef BundleDir
  #define BundleDir "..\dist\Tiller"
#endif

[Setup]
AppId={{6A1F4E0C-3B57-4C2E-9E55-7D3B1F1C2A10}
AppName=Tiller
AppVerName=Tiller {#AppVersion}
AppVersion={#AppVersion}
VersionInfoVersion={#FileVersion}
VersionInfoProductVersion={#FileVersion}
VersionInfoDescription=Tiller A股交易终端 安装程序 (setup)
AppPublisher=Tiller
DefaultDirName={autopf}\Tiller
DefaultGroupName=Tiller
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputBaseFilename=Tiller-{#AppVersion}-setup
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
UninstallDisplayIcon={app}\Tiller.exe
UninstallDisplayName=Tiller {#AppVersion}
CloseApplications=yes
RestartApplications=no
UsePreviousAppDir=yes
UsePreviousTasks=yes
ShowLanguageDialog=auto

[Languages]
Name: "chinesesimplified"; MessagesFile: "compiler:Languages\ChineseSimplified.isl"
Name: "english"; MessagesFile: "compiler:Default.isl"

[CustomMessages]
chinesesimplified.DesktopIcon=创建桌面快捷方式
english.DesktopIcon=Create a desktop shortcut
chinesesimplified.RemoveData=同时删除 Tiller 的数据和设置（账本、日志、config.toml）？%n%n选择“否”则保留，重新安装后可继续使用。
english.RemoveData=Also remove Tiller's data and settings (books, logs, config.toml)?%n%nChoose No to keep them for a later install.
chinesesimplified.CommandLine=Tiller 命令行
english.CommandLine=Tiller command line

[Tasks]
Name: "desktopicon"; Description: "{cm:DesktopIcon}"; Flags: unchecked

[InstallDelete]
; an upgrade replaces the program folder's files, never the user's data (which lives elsewhere)
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\Tiller"; Filename: "{app}\Tiller.exe"
Name: "{group}\{cm:CommandLine}"; Filename: "{cmd}"; Parameters: "/k ""{app}\tiller-cli.exe"" --help"; WorkingDir: "{userdocs}"
Name: "{group}\{cm:UninstallProgram,Tiller}"; Filename: "{uninstallexe}"
Name: "{userdesktop}\Tiller"; Filename: "{app}\Tiller.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\Tiller.exe"; Description: "{cm:LaunchProgram,Tiller}"; Flags: nowait postinstall skipifsilent

[Code]
procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  if (CurUninstallStep = usPostUninstall) and (not UninstallSilent) then
  begin
    if MsgBox(ExpandConstant('{cm:RemoveData}'), mbConfirmation, MB_YESNO or MB_DEFBUTTON2) = IDYES then
    begin
      DelTree(ExpandConstant('{localappdata}\Tiller'), True, True, True);
      DelTree(ExpandConstant('{userappdata}\Tiller'), True, True, True);
    end;
  end;
end;
