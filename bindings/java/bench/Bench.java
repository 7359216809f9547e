package com.fanruan.fanlic.verifier.bench;

import com.fanruan.fanlic.verifier.Environment;
import com.fanruan.fanlic.verifier.Result;
import com.fanruan.fanlic.verifier.Verifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

/**
 * Verification through the Java binding (Verifier.verify, over JNI) against the same verification in a
 * Rust loop (native/src/bench.rs, called once through JNI), side by side in one JVM, with warm-up. A timed
 * loop, not JMH (not packaged here). Run by bench/run.sh.
 *
 * <p>Usage: Bench FIXTURES_DIR [ITERATIONS] [ROUNDS]
 */
public final class Bench {
    private Bench() {}

    private static native long rustLoop(byte[][] roots, byte[] license, Environment env, int iterations);

    private static volatile boolean sink;

    static long javaLoop(Verifier v, byte[] license, Environment env, int n) {
        long start = System.nanoTime();
        boolean any = false;
        for (int i = 0; i < n; i++) {
            Result r = v.verify(license, env);
            any ^= r.valid();
        }
        long t = System.nanoTime() - start;
        sink = any;
        return t;
    }

    public static void main(String[] args) throws Exception {
        Path fixtures = Path.of(args[0]);
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 2000;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 7;
        byte[] root = Files.readAllBytes(fixtures.resolve("keys/root-a.pub.raw"));
        byte[][] roots = {root};
        Verifier verifier = new Verifier(roots); // loads the native library, which also holds rustLoop

        Instant june = Instant.parse("2026-06-01T00:00:00Z");
        Object[][] cases = {
            {"valid", "vectors/valid-local-container.lic",
                new Environment("FineReport", "11.0", "webroot", 1, Environment.Method.LOCAL_CONTAINER, june, null)},
            // The manifest's all-causes vector: eight causes, signatures checked.
            {"all-causes", "vectors/all-causes.lic",
                new Environment("FineBI", "10.0", "other", 3, Environment.Method.PRIVATE_CLOUD, june,
                        Instant.parse("2026-07-01T00:00:00Z"))},
        };
        System.out.printf("java %s, %s; %d iterations x %d rounds, median round%n",
                System.getProperty("java.vm.version"), System.getProperty("os.arch"), n, rounds);
        System.out.printf("%-11s %14s %14s %8s%n", "case", "Java ns/op", "Rust ns/op", "ratio");
        for (Object[] c : cases) {
            byte[] license = Files.readAllBytes(fixtures.resolve((String) c[1]));
            Environment env = (Environment) c[2];
            Result check = verifier.verify(license, env);
            if (c[0].equals("valid") != check.valid() || check.causes().size() == 1) {
                throw new IllegalStateException(c[0] + ": unexpected " + check);
            }
            // Warm-up: JIT-compile the Java path, fault in the native code.
            for (int w = 0; w < 3; w++) {
                javaLoop(verifier, license, env, n);
                rustLoop(roots, license, env, n);
            }
            long[] java = new long[rounds];
            long[] rust = new long[rounds];
            for (int r = 0; r < rounds; r++) {
                // Interleaved, so that a noisy neighbour slows both alike.
                java[r] = javaLoop(verifier, license, env, n);
                rust[r] = rustLoop(roots, license, env, n);
            }
            double j = median(java) / n;
            double rs = median(rust) / n;
            System.out.printf("%-11s %14.0f %14.0f %7.3fx   (%s)%n", c[0], j, rs, j / rs, check);
        }
    }

    static double median(long[] v) {
        long[] s = v.clone();
        java.util.Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2.0;
    }
}
