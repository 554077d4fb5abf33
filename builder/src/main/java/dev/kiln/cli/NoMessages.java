package dev.kiln.cli;

import java.text.MessageFormat;
import java.util.Locale;
import org.springframework.context.MessageSource;
import org.springframework.context.MessageSourceResolvable;
import org.springframework.context.NoSuchMessageException;
import org.springframework.stereotype.Component;

/**
 * The context's message source: Kiln has no message bundles. It answers as Spring's default one
 * does without them (the default message, else {@link NoSuchMessageException}), but that one's
 * class lists every locale of the JVM when it initializes, some 30 ms of each start.
 */
@Component("messageSource")
class NoMessages implements MessageSource {

    @Override
    public String getMessage(String code, Object[] args, String defaultMessage, Locale locale) {
        return defaultMessage == null ? null : render(defaultMessage, args, locale);
    }

    @Override
    public String getMessage(String code, Object[] args, Locale locale) {
        throw new NoSuchMessageException(code, locale);
    }

    @Override
    public String getMessage(MessageSourceResolvable resolvable, Locale locale) {
        String defaultMessage = resolvable.getDefaultMessage();
        if (defaultMessage == null) {
            String[] codes = resolvable.getCodes();
            throw new NoSuchMessageException(codes == null || codes.length == 0 ? "" : codes[codes.length - 1], locale);
        }
        return render(defaultMessage, resolvable.getArguments(), locale);
    }

    private static String render(String message, Object[] args, Locale locale) {
        return args == null || args.length == 0 ? message
                : new MessageFormat(message, locale == null ? Locale.ROOT : locale).format(args);
    }
}
