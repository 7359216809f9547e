import com.fanruan.fanlic.verifier.Cause;
import com.fanruan.fanlic.verifier.Environment;
import com.fanruan.fanlic.verifier.Lang;
import com.fanruan.fanlic.verifier.Result;
import com.fanruan.fanlic.verifier.Verifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

/** Verifies one license file: java -cp fanlic-verifier.jar:. Minimal Container.lic root.pub.raw [NOW]. */
public class Minimal {
    public static void main(String[] args) throws Exception {
        byte[] license = Files.readAllBytes(Path.of(args[0]));
        byte[] rootKey = Files.readAllBytes(Path.of(args[1])); // 32 bytes, embedded in a real product
        Instant now = args.length > 2 ? Instant.parse(args[2]) : Instant.now();
        Environment env = new Environment("FineReport", "11.0.20", "webroot", 1,
                Environment.Method.LOCAL_CONTAINER, now, null);

        Result result = new Verifier(rootKey).verify(license, env);
        if (result.valid()) {
            System.out.println("valid: registered to " + result.license().orElseThrow().company());
        }
        for (Cause cause : result.causes()) {
            System.out.println(cause.code() + ": " + result.title(cause, Lang.EN));
        }
    }
}
