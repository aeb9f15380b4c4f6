package io.modelpress.localstack;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;

/**
 * Runs the local stack until Ctrl-C: {@code java -cp ... io.modelpress.localstack.Main [--tls] [WORK_FOLDER]}.
 * Prints the settings a service needs as {@code NAME=value} lines; with {@code --tls} the broker's
 * SASL_SSL listener, its SCRAM user and the https S3 endpoint, with the CA file that signed both.
 */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) throws Exception {
        List<String> rest = new ArrayList<>(List.of(args));
        boolean tls = rest.remove("--tls");
        Path work = rest.isEmpty() ? Files.createTempDirectory("modelpress-local-stack-") : Path.of(rest.get(0));
        LocalStack stack = LocalStack.builder().workFolder(work).tls(tls).start();
        new TreeMap<>(stack.environment()).forEach((name, value) -> System.out.println(name + "=" + value));
        System.out.println("# work folder " + work + "; Ctrl-C stops both servers");
        System.out.flush();
        new CountDownLatch(1).await(); // the shutdown hook stops the servers
    }
}
