@echo off
rem The README's first command on Windows: builds target\qwenedit.jar if it is missing (with the Maven
rem wrapper), then runs the demo. Options are passed on: --once, --results DIR.
setlocal
cd /d "%~dp0.."
if not exist target\qwenedit.jar (
  echo Building target\qwenedit.jar ^(the first time, Maven downloads the dependencies^)...
  call mvnw.cmd -B -q package -DskipTests
  if errorlevel 1 exit /b 1
)
java -jar target\qwenedit.jar demo %*
exit /b %ERRORLEVEL%
