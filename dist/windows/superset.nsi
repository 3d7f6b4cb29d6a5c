; The Windows installer of Superset, for NSIS 3 (`makensis`). dist/package-windows.sh stages the
; files and runs it with:
;   /DVERSION=x.y.z   the app's version
;   /DSTAGING=DIR     superset.exe, superset-window.exe and superset.ico
;   /DOUTFILE=PATH    the installer to write
; It installs for the current user only (no administrator rights asked): the programs under
; %LOCALAPPDATA%\Programs\Superset, a Start-menu entry that opens the window, and an uninstaller
; listed in Settings > Apps. The app's data (%APPDATA%\Superset) is never touched.

; A 64-bit installer for a 64-bit app (it also runs under a 64-bit-only wine).
Target amd64-unicode
SetCompressor /SOLID lzma
RequestExecutionLevel user

!define APP "Superset"
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\Superset"

Name "${APP}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\${APP}"
InstallDirRegKey HKCU "${UNINSTALL_KEY}" "InstallLocation"
Icon "${STAGING}\superset.ico"
UninstallIcon "${STAGING}\superset.ico"
VIProductVersion "${VERSION}.0"
VIAddVersionKey "ProductName" "${APP}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "FileDescription" "${APP} installer"
VIAddVersionKey "LegalCopyright" "MIT"

Page directory
Page instfiles
UninstPage uninstConfirm
UninstPage instfiles

Section "Install"
    SetShellVarContext current
    SetOutPath "$INSTDIR"
    File "${STAGING}\superset.exe"
    File "${STAGING}\superset-window.exe"
    File "${STAGING}\superset.ico"
    WriteUninstaller "$INSTDIR\uninstall.exe"
    CreateShortCut "$SMPROGRAMS\${APP}.lnk" "$INSTDIR\superset-window.exe" "" "$INSTDIR\superset.ico" 0
    WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayName" "${APP}"
    WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
    WriteRegStr HKCU "${UNINSTALL_KEY}" "Publisher" "Superset Developers"
    WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\superset.ico"
    WriteRegStr HKCU "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
    WriteRegStr HKCU "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
    WriteRegStr HKCU "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
    WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoModify" 1
    WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoRepair" 1
SectionEnd

Section "Uninstall"
    SetShellVarContext current
    Delete "$SMPROGRAMS\${APP}.lnk"
    Delete "$INSTDIR\superset.exe"
    Delete "$INSTDIR\superset-window.exe"
    Delete "$INSTDIR\superset.ico"
    Delete "$INSTDIR\uninstall.exe"
    RMDir "$INSTDIR"
    DeleteRegKey HKCU "${UNINSTALL_KEY}"
SectionEnd
