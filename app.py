"""`python app.py` starts the Mentor Assistant workspace, exactly like `mentor serve`."""

from assistant.workspace.app import main

if __name__ == "__main__":
    main()
