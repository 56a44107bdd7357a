package dev.jkvm.devices;

/**
 * Proleptic Gregorian date arithmetic on primitives (H. Hinnant's days-from-civil algorithms).
 *
 * <p>Why not {@code java.time}: the RTC converts on every guest register read, which is a VM exit;
 * these static methods allocate nothing. Days count from 1970-01-01 (day 0).
 *
 * <pre>{@code
 * long d = CivilCalendar.daysFromCivil(2000, 3, 1);   // 11017
 * CivilCalendar.year(d); CivilCalendar.month(d); CivilCalendar.day(d); // 2000, 3, 1
 * }</pre>
 */
final class CivilCalendar {

    private CivilCalendar() {
    }

    /** Days since 1970-01-01 of {@code year-month-day} (month 1-12, day 1-31). */
    static long daysFromCivil(long year, int month, int day) {
        long y = month <= 2 ? year - 1 : year;
        long era = Math.floorDiv(y, 400);
        long yoe = y - era * 400;
        long doy = (153L * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
        long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
    }

    /** The year of day {@code days}. */
    static long year(long days) {
        long z = days + 719468;
        long era = Math.floorDiv(z, 146097);
        long doe = z - era * 146097;
        long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        long mp = (5 * doy + 2) / 153;
        return yoe + era * 400 + (mp >= 10 ? 1 : 0);
    }

    /** The month (1-12) of day {@code days}. */
    static int month(long days) {
        long mp = (5 * dayOfMarchYear(days) + 2) / 153;
        return (int) (mp < 10 ? mp + 3 : mp - 9);
    }

    /** The day of the month (1-31) of day {@code days}. */
    static int day(long days) {
        long doy = dayOfMarchYear(days);
        long mp = (5 * doy + 2) / 153;
        return (int) (doy - (153 * mp + 2) / 5 + 1);
    }

    /** Day of the week, 1 = Sunday .. 7 = Saturday (the RTC's convention). */
    static int dayOfWeek(long days) {
        return Math.floorMod(days + 4, 7) + 1; // 1970-01-01 was a Thursday
    }

    /** Number of days of {@code month} in {@code year}. */
    static int daysInMonth(long year, int month) {
        return switch (month) {
            case 2 -> (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28;
            case 4, 6, 9, 11 -> 30;
            default -> 31;
        };
    }

    /** Day of the year counted from March 1st (0-365). */
    private static long dayOfMarchYear(long days) {
        long z = days + 719468;
        long era = Math.floorDiv(z, 146097);
        long doe = z - era * 146097;
        long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        return doe - (365 * yoe + yoe / 4 - yoe / 100);
    }
}
