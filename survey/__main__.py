"""``python -m survey ...``: the console script (:func:`survey.cli_light.main`)."""

from survey.cli_light import main

if __name__ == "__main__":
    main()
