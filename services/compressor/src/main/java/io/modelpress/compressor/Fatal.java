package io.modelpress.compressor;

/**
 * Out of memory ends the process. After an OutOfMemoryError the heap may be in any state (a half
 * built model, a lock never released), so carrying on risks wrong results; the record stays
 * unacknowledged, the platform restarts the service, and the crash ledger counts the record so that
 * it is refused after {@code modelpress.faults.max-crashes} such ends. The JVM flag
 * {@code -XX:+ExitOnOutOfMemoryError} does the same for an allocation that fails anywhere else.
 */
final class Fatal {

    static final int OUT_OF_MEMORY_EXIT = 3;

    private Fatal() {
    }

    static void outOfMemory(IncomingRecord record, OutOfMemoryError error) {
        // Plain stderr: logging may itself need memory that is not there.
        System.err.println("FATAL: " + record + " ran out of memory (" + error + "); the process ends now"
                + " (exit " + OUT_OF_MEMORY_EXIT + ") and the record is counted as a crash");
        System.err.flush();
        Runtime.getRuntime().halt(OUT_OF_MEMORY_EXIT);
    }
}
