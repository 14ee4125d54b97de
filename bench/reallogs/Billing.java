// Billing: a small JVM billing job, run by capture.sh. It bills a batch of
// invoices (some deliberately bad) and logs through java.util.logging what
// happens, with the stack traces the JVM raises.
import java.math.BigDecimal;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.*;
import java.util.logging.*;

public class Billing {
    static final Logger LOG = Logger.getLogger("billing");

    record Invoice(String id, String customer, String amount, String address, String approver) {}

    @Deprecated
    static BigDecimal legacyRound(BigDecimal v) {
        LOG.warning("legacyRound() is deprecated since 2.4 and will be removed in 3.0; use Rounding.bankers()");
        return v.setScale(2, java.math.RoundingMode.HALF_UP);
    }

    public static void main(String[] args) {
        int run = args.length > 0 ? Integer.parseInt(args[0]) : 1;
        Random rnd = new Random(run);
        LOG.info("Billing run " + run + " started on " + Runtime.getRuntime().availableProcessors() + " cores");
        Properties cfg = new Properties();
        cfg.setProperty("billing.legacyRounding", "true");
        if (cfg.containsKey("billing.legacyRounding")) {
            LOG.warning("Configuration property 'billing.legacyRounding' is deprecated; use 'billing.rounding.mode'");
        }
        List<Invoice> batch = new ArrayList<>();
        String[] customers = {"acme", "globex", "initech", null};
        for (int i = 0; i < 10; i++) {
            String amount = rnd.nextInt(5) == 0 ? "12,40 EUR" : String.valueOf(rnd.nextInt(2000)) + ".00";
            batch.add(new Invoice("INV-" + (run * 100 + i), customers[rnd.nextInt(customers.length)], amount,
                    rnd.nextInt(4) == 0 ? null : "1 Main St", rnd.nextInt(3) == 0 ? null : "alice"));
        }
        int billed = 0;
        for (Invoice inv : batch) {
            try {
                BigDecimal amount = new BigDecimal(inv.amount());
                if (inv.address() == null) {
                    LOG.severe("Invoice " + inv.id() + " cannot be issued: customer " + inv.customer() + " has no billing address");
                    continue;
                }
                if (amount.compareTo(new BigDecimal("1500")) > 0 && inv.approver() == null) {
                    LOG.severe("Invoice " + inv.id() + " is stuck in approval: amount " + amount + " needs a second approver");
                    continue;
                }
                amount = legacyRound(amount);
                LOG.info("User " + inv.approver() + " approved invoice " + inv.id() + " for " + inv.customer().toUpperCase());
                billed++;
            } catch (NumberFormatException e) {
                LOG.log(Level.WARNING, "Invoice " + inv.id() + " rejected: amount '" + inv.amount() + "' is not a number", e);
            } catch (NullPointerException e) {
                LOG.log(Level.SEVERE, "Invoice " + inv.id() + " failed", e);
            }
        }
        Runtime rt = Runtime.getRuntime();
        long used = (rt.totalMemory() - rt.freeMemory()) / (1024 * 1024);
        LOG.info("Heap used " + used + " MB of " + rt.maxMemory() / (1024 * 1024) + " MB; " + billed + " invoices billed");
        if (run % 2 == 0) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", 5999), 1000);
            } catch (Exception e) {
                LOG.log(Level.SEVERE, "Ledger database unreachable; billing run " + run + " aborted, no invoices were posted", e);
                return;
            }
        }
        LOG.info("Billing run " + run + " finished: " + billed + " of " + batch.size() + " invoices billed");
    }
}
