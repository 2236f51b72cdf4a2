using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace AutoGrad.Nn.Serialization;

/// <summary>
/// Writes a file so that a crash never leaves a partial file in its place: the content goes to a temporary file in
/// the same folder (<c>.NAME.GUID.tmp</c>), is flushed to disk, and then replaces the target with one rename.
/// </summary>
/// <remarks>
/// No temporary outlives its save: it is deleted when the write throws, when the process is interrupted (Ctrl+C,
/// SIGTERM) or exits, and a save that finds temporaries of the same file left by a killed process (which no handler
/// can catch) deletes them first. A temporary is held with an exclusive lock while it is written, so a save never
/// deletes one that another live process is still writing.
/// </remarks>
public static class AtomicFile
{
    private static readonly ConcurrentDictionary<string, byte> s_writing = new(StringComparer.Ordinal);
    private static readonly Lock s_hooksLock = new();
    private static PosixSignalRegistration[]? s_signals;

    /// <summary>Writes <paramref name="path"/> atomically.</summary>
    /// <param name="path">The target file.</param>
    /// <param name="write">
    /// Writes the whole content to the stream it is given. It may be called a second time, with a new stream, when an
    /// interrupt the application cancelled removed the first temporary.
    /// </param>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full)!;
        RemoveStaleTemporaries(folder, Path.GetFileName(full));
        InstallCleanupHooks();

        // A Ctrl+C that the application cancels (Console.CancelKeyPress) still ran the handler that deleted the
        // temporary; the process goes on, so the content is written again to a new one.
        for (var attempt = 0; ; attempt++)
        {
            var temporary = Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
            s_writing.TryAdd(temporary, 0);
            try
            {
                using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                {
                    write(stream);
                    stream.Flush(flushToDisk: true);
                }

                if (File.Exists(temporary) || attempt == 2)
                {
                    File.Move(temporary, full, overwrite: true);
                    return;
                }
            }
            finally
            {
                s_writing.TryRemove(temporary, out _);
                if (File.Exists(temporary))
                {
                    File.Delete(temporary);
                }
            }
        }
    }

    /// <summary>
    /// Deletes temporaries of <paramref name="fileName"/> that nobody holds: a process killed mid-save (845 MB after
    /// twelve kills of a 50M-parameter save) leaves them behind. One still locked by a live writer is left alone.
    /// </summary>
    private static void RemoveStaleTemporaries(string folder, string fileName)
    {
        if (!Directory.Exists(folder))
        {
            return;
        }

        foreach (var candidate in Directory.EnumerateFiles(folder, $".{fileName}.*.tmp"))
        {
            var guid = Path.GetFileName(candidate).AsSpan()[(fileName.Length + 2)..^4];
            if (!Guid.TryParseExact(guid, "N", out _) || s_writing.ContainsKey(candidate))
            {
                continue;
            }

            try
            {
                using (new FileStream(candidate, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
                {
                }

                File.Delete(candidate);
            }
            catch (IOException)
            {
                // Locked: another process is writing it now.
            }
            catch (UnauthorizedAccessException)
            {
                // Not ours to delete.
            }
        }
    }

    /// <summary>Deletes the temporaries this process is writing; for interruption and exit, when no finally block runs.</summary>
    internal static void DeleteTemporariesInProgress()
    {
        foreach (var temporary in s_writing.Keys)
        {
            try
            {
                File.Delete(temporary);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    private static void InstallCleanupHooks()
    {
        lock (s_hooksLock)
        {
            if (s_signals is not null)
            {
                return;
            }

            // Ctrl+C and SIGTERM end the process without running finally blocks; their handlers run first. The
            // default action (termination) still follows, since the handlers do not cancel it.
            AppDomain.CurrentDomain.ProcessExit += (_, _) => DeleteTemporariesInProgress();
            s_signals = OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() || OperatingSystem.IsWindows()
                ? [PosixSignalRegistration.Create(PosixSignal.SIGINT, _ => DeleteTemporariesInProgress()),
                   PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => DeleteTemporariesInProgress())]
                : [];
        }
    }
}
