package io.modelpress.compressor;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * Counts, in S3 so that the count survives the process, how often each record was started and not
 * finished. Each process writes a marker object of its own per record it starts
 * ({@code modelpress/attempts/<topic>/<partition>/<offset>/<run>}) and removes it when the job ends (done,
 * failed or abandoned for a shutdown or a partition that moved away). A record whose job kills the
 * process (out of memory, a native crash) leaves its marker behind; when the same record comes again,
 * the markers of other runs say how many times it did, and after {@code modelpress.faults.max-crashes}
 * it is refused, not run again. A marker per run, rather than one counter, means no instance ever
 * rewrites what another wrote: an abandoned attempt cannot put back a stale count over a newer one.
 */
@ApplicationScoped
public class CrashLedger {

    private static final Logger LOG = Logger.getLogger(CrashLedger.class);
    static final String PREFIX = "modelpress/attempts/";

    private final ObjectStore store;
    private final String bucket;
    private final String run = UUID.randomUUID().toString();

    @Inject
    public CrashLedger(ObjectStore store, CompressorConfig config) {
        this.store = store;
        this.bucket = new InputPolicy(config.inputs().allowed()).stateBucket();
    }

    /**
     * Notes that the record's job starts.
     *
     * @return how many earlier runs started it without finishing
     */
    int begin(IncomingRecord record) {
        try {
            int before = store.listFolder(bucket, folder(record)).size();
            store.writeText(marker(record), Instant.now().toString(), "text/plain");
            return before;
        } catch (JobFailure e) {
            // Without storage the job fails on its own download; counting must not stop it first.
            LOG.warnf("%s: cannot count the attempt at %s: %s", record, marker(record), e.getMessage());
            return 0;
        }
    }

    /** The job ended, with a result or a failure event, or was abandoned: this run's attempt is no crash. */
    void finished(IncomingRecord record) {
        try {
            store.delete(marker(record));
        } catch (JobFailure e) {
            LOG.warnf("%s: cannot remove the attempt marker: %s", record, e.getMessage());
        }
    }

    S3Location marker(IncomingRecord record) {
        return new S3Location(bucket, folder(record) + run);
    }

    private static String folder(IncomingRecord record) {
        return PREFIX + record.topic() + "/" + record.partition() + "/" + record.offset() + "/";
    }
}
