package io.modelpress.compressor;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

/**
 * Counts, in S3 so that the count survives the process, how often each record was started and not
 * finished: a marker object per topic/partition/offset written before the job runs and removed when
 * it ends (done or failed). A record whose job kills the process (out of memory, a native crash)
 * leaves its marker behind; when the same record comes again after the restart, the marker says how
 * many times it did, and after {@code modelpress.faults.max-crashes} it is refused, not run again.
 */
@ApplicationScoped
public class CrashLedger {

    private static final Logger LOG = Logger.getLogger(CrashLedger.class);
    static final String PREFIX = "modelpress/attempts/";

    private final ObjectStore store;
    private final String bucket;

    @Inject
    public CrashLedger(ObjectStore store, CompressorConfig config) {
        this.store = store;
        this.bucket = new InputPolicy(config.inputs().allowed()).stateBucket();
    }

    /**
     * Notes that the record's job starts.
     *
     * @return how many times it started before without finishing
     */
    int begin(IncomingRecord record) {
        S3Location marker = marker(record);
        int before;
        try {
            before = store.readText(marker).map(CrashLedger::count).orElse(0);
            store.writeText(marker, String.valueOf(before + 1), "text/plain");
        } catch (JobFailure e) {
            // Without storage the job fails on its own download; counting must not stop it first.
            LOG.warnf("%s: cannot count the attempt at %s: %s", record, marker, e.getMessage());
            return 0;
        }
        return before;
    }

    /** The job ended, with a result or a failure event: the record is no crash. */
    void finished(IncomingRecord record) {
        try {
            store.delete(marker(record));
        } catch (JobFailure e) {
            LOG.warnf("%s: cannot remove the attempt marker: %s", record, e.getMessage());
        }
    }

    /** The job was stopped for shutdown: it is no crash, so the count goes back to what it was. */
    void abandoned(IncomingRecord record, int before) {
        try {
            if (before == 0) {
                store.delete(marker(record));
            } else {
                store.writeText(marker(record), String.valueOf(before), "text/plain");
            }
        } catch (JobFailure e) {
            LOG.warnf("%s: cannot restore the attempt marker: %s", record, e.getMessage());
        }
    }

    S3Location marker(IncomingRecord record) {
        return new S3Location(bucket, PREFIX + record.topic() + "/" + record.partition() + "/" + record.offset());
    }

    private static int count(String text) {
        try {
            return Integer.parseInt(text.strip());
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
